// Runs a zod schema over a document and turns every issue into one problem line naming the
// field by path. Unrecognised keys and values marked "not supported" are unsupported problems:
// with --ignore-unsupported they are warnings, the field is dropped and the rest is used.
import type { z } from 'zod';

export interface FieldIssue {
  path: (string | number)[];
  message: string;
  unsupported: boolean;
}

/** `['spec', 'containers', 0, 'name']` → `spec.containers[0].name`. Pure. */
export function fieldPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const text = String(part);
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(text) ? `${out === '' ? '' : '.'}${text}` : `[${JSON.stringify(text)}]`;
    }
  }
  return out;
}

function issuesOf(error: z.ZodError, reasons: Readonly<Record<string, string>>, unsupportedPrefix: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const reason = reasons[key];
        out.push({ path: [...path, key], message: reason === undefined ? unsupportedPrefix : `${unsupportedPrefix} (${reason})`, unsupported: true });
      }
      continue;
    }
    // A union's message says nothing useful ("Invalid input"): say what was expected where zod knows.
    let message = issue.message;
    if (issue.code === 'invalid_union') message = 'not one of the accepted forms';
    out.push({ path, message, unsupported: message.startsWith(unsupportedPrefix) });
  }
  return out;
}

function removeAt(value: unknown, path: readonly (string | number)[]): void {
  let node = value as Record<string | number, unknown> | undefined;
  for (let i = 0; i < path.length - 1; i++) {
    node = node?.[path[i] as string | number] as Record<string | number, unknown> | undefined;
    if (node === null || typeof node !== 'object') return;
  }
  const last = path[path.length - 1];
  if (node !== undefined && last !== undefined) delete node[last];
}

/**
 * Parses `value` with `schema`. Without `ignoreUnsupported` every issue is an error; with it,
 * unsupported fields are removed (each reported as a warning) and the rest parsed again. Pure.
 */
export function validateWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { ignoreUnsupported: boolean; reasons: Readonly<Record<string, string>>; unsupportedPrefix: string },
): { data?: z.infer<S>; errors: FieldIssue[]; warnings: FieldIssue[] } {
  const first = schema.safeParse(value);
  if (first.success) return { data: first.data, errors: [], warnings: [] };
  const issues = issuesOf(first.error, options.reasons, options.unsupportedPrefix);
  if (!options.ignoreUnsupported || issues.some((i) => !i.unsupported)) {
    return { errors: issues, warnings: [] };
  }
  const copy = structuredClone(value);
  for (const issue of issues) removeAt(copy, issue.path);
  const second = schema.safeParse(copy);
  if (second.success) return { data: second.data, errors: [], warnings: issues };
  return { errors: issuesOf(second.error, options.reasons, options.unsupportedPrefix), warnings: issues };
}
