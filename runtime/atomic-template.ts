// Atomic's template language, as images under /exports use it: `$VAR` and `${VAR}` are
// replaced by the variable's value, inserted raw (images rely on that: `$ADDTL_MOUNTS` adds
// JSON entries to config.json.template); `$$` is a literal `$`. A `$` followed by anything
// else stays as it is. An unset variable is an error naming the variable and the file.
import { SyscontainerError } from '../common/errors.js';

export type TemplateValues = Readonly<Record<string, string>>;

const variablePattern = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Names of the variables a template refers to, in order of first use. Pure. */
export function templateVariables(template: string): string[] {
  const seen = new Set<string>();
  for (const match of template.matchAll(variablePattern)) {
    const name = match[1] ?? match[2];
    if (name !== undefined) seen.add(name);
  }
  return [...seen];
}

/** The substitution itself; `encode` turns a value into the text inserted at `offset`. */
function substitute(template: string, values: TemplateValues, fileName: string, encode: (value: string, offset: number) => string): string {
  return template.replace(variablePattern, (_whole, braced: string | undefined, bare: string | undefined, offset: number) => {
    const name = braced ?? bare;
    if (name === undefined) return '$';
    const value = Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
    if (value === undefined) throw unsetVariable(template, name, offset, fileName);
    return encode(value, offset);
  });
}

/**
 * Substitutes every variable of `template` from `values`, raw. Pure. Throws ETEMPLATE naming
 * the first unset variable, the file (`fileName`) and the line it is on.
 */
export function renderAtomicTemplate(template: string, values: TemplateValues, fileName: string): string {
  return substitute(template, values, fileName, (value) => value);
}

/**
 * renderAtomicTemplate for a systemd unit (service.template): `%` in a value is doubled, so
 * systemd reads it as a `%` and never as a specifier (`%h`, `%n`, …). Newlines cannot reach
 * here (values with control characters are refused), so a value cannot add a directive. Pure.
 */
export function renderUnitTemplate(template: string, values: TemplateValues, fileName: string): string {
  return substitute(template, values, fileName, (value) => value.replace(/%/g, '%%'));
}

function unsetVariable(template: string, name: string, offset: number, fileName: string): SyscontainerError {
  const line = template.slice(0, offset).split('\n').length;
  // Atomic's words in parentheses: scripts written for `atomic install` grep them.
  return new SyscontainerError('ETEMPLATE', `${fileName}:${line}: variable ${name} is not set (unreplaced value for: '${name}')`, {
    hint: `set it with --set ${name}=VALUE`,
  });
}

/**
 * renderAtomicTemplate for a JSON template (config.json.template): a variable inside a JSON
 * string literal gets its value JSON-escaped, so quotes, backslashes and the like in a value
 * stay part of that one string and cannot add elements or keys; a variable outside any string
 * (`$ADDTL_MOUNTS` adding entries to an array, as Atomic images do) is inserted raw as before.
 * Pure.
 */
export function renderJsonTemplate(template: string, values: TemplateValues, fileName: string): string {
  // Which offsets of the template lie inside a JSON string literal.
  const inString = new Uint8Array(template.length);
  let open = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (open) {
      inString[i] = 1;
      if (c === '\\') {
        inString[i + 1] = 1;
        i++;
      } else if (c === '"') {
        open = false;
      }
    } else if (c === '"') {
      open = true;
    }
  }
  return substitute(template, values, fileName, (value, offset) => (inString[offset] === 1 ? JSON.stringify(value).slice(1, -1) : value));
}
