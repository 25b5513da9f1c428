// Atomic's template language, as images under /exports use it: `$VAR` and `${VAR}` are
// replaced by the variable's value, inserted raw (images rely on that: `$ADDTL_MOUNTS` adds
// JSON entries to config.json.template); `$$` is a literal `$`. A `$` followed by anything
// else stays as it is. An unset variable is an error naming the variable and the file.
import { SyscontainerError } from '../store/errors.js';

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

/**
 * Substitutes every variable of `template` from `values`. Pure. Throws ETEMPLATE naming the
 * first unset variable, the file (`fileName`) and the line it is on.
 */
export function renderAtomicTemplate(template: string, values: TemplateValues, fileName: string): string {
  return template.replace(variablePattern, (whole, braced: string | undefined, bare: string | undefined, offset: number) => {
    const name = braced ?? bare;
    if (name === undefined) return '$';
    const value = Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
    if (value === undefined) {
      const line = template.slice(0, offset).split('\n').length;
      throw new SyscontainerError('ETEMPLATE', `${fileName}:${line}: variable ${name} is not set`, {
        hint: `set it with --set ${name}=VALUE`,
      });
    }
    return value;
  });
}
