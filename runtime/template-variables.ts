// What an image's /exports templates ask for, for `images info`: each variable a template
// uses, and whether the installer sets it, a default covers it, or the user must --set it.
import { templateVariables } from './atomic-template.js';
import { installerVariables, overridableVariables } from './values.js';

export const exportTemplateFiles = ['config.json.template', 'service.template', 'tmpfiles.template'] as const;

export type VariableKind = 'installer' | 'default' | 'required';

export interface TemplateVariable {
  name: string;
  kind: VariableKind;
  /** The default (manifest.json defaultValues, or how the installer computes it). */
  default?: string;
  /** The template files that use it. */
  files: string[];
}

// How the installer computes the overridable variables (runtime/values.ts), in words.
const computedDefaults: Record<(typeof overridableVariables)[number], string> = {
  RUN_DIRECTORY: '/run',
  STATE_DIRECTORY: '/var/lib',
  CONF_DIRECTORY: '/etc',
  PIDFILE: '$RUN_DIRECTORY/container-$NAME.pid',
  UUID: '(generated once, kept across updates)',
  ALL_PROCESS_CAPABILITIES: '(every capability of this kernel)',
  RUNTIME: '(the runtime path, e.g. /usr/sbin/runc)',
};

/**
 * Classifies the variables of `templates` (file name → text). `defaultValues` is the image's
 * manifest.json defaultValues. Sorted: installer, then defaults, then required; by name within.
 */
export function describeTemplateVariables(templates: ReadonlyMap<string, string>, defaultValues: Readonly<Record<string, unknown>> = {}): TemplateVariable[] {
  const byName = new Map<string, TemplateVariable>();
  for (const [file, text] of templates) {
    for (const name of templateVariables(text)) {
      const entry = byName.get(name) ?? { name, ...classify(name, defaultValues), files: [] };
      entry.files.push(file);
      byName.set(name, entry);
    }
  }
  const order: Record<VariableKind, number> = { installer: 0, default: 1, required: 2 };
  return [...byName.values()].sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name));
}

function classify(name: string, defaultValues: Readonly<Record<string, unknown>>): { kind: VariableKind; default?: string } {
  if ((installerVariables as readonly string[]).includes(name)) return { kind: 'installer' };
  // Computed defaults win over defaultValues (atomic-compat.md's precedence).
  if (name in computedDefaults) return { kind: 'default', default: computedDefaults[name as keyof typeof computedDefaults] };
  const own = defaultValues[name];
  if (typeof own === 'string' || typeof own === 'number' || typeof own === 'boolean') return { kind: 'default', default: String(own) };
  return { kind: 'required' };
}
