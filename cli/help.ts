// Help text: the command list, and each command's usage with a line per option.
import type { ParseArgsConfig } from 'node:util';
import type { Command, OptionSpec, OptionSpecs } from './command.js';

export const globalOptions: OptionSpecs = {
  root: { type: 'string', placeholder: 'DIR', description: 'store and deployments (default /var/lib/containers/atomic; env SYSCONTAINER_ROOT)' },
  'registries-conf': { type: 'string', placeholder: 'FILE', description: 'registries.conf to read, with its .d drop-ins (env SYSCONTAINER_REGISTRIES_CONF)' },
  'auth-file': { type: 'string', placeholder: 'FILE', description: 'registry credentials, auth.json format (env REGISTRY_AUTH_FILE)' },
  'signature-policy': { type: 'string', placeholder: 'FILE', description: 'containers-policy.json pulls are verified by (env SYSCONTAINER_SIGNATURE_POLICY)' },
  'registries.d': { type: 'string', placeholder: 'DIR', description: 'where signature lookasides are configured (env SYSCONTAINER_REGISTRIES_D)' },
  debug: { type: 'boolean', description: 'print the chain of causes of an error (env SYSCONTAINER_DEBUG=1)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', description: 'print the version' },
};

/** Our option specs as node:util parseArgs takes them (without the help fields). */
export function parseArgsOptions(specs: OptionSpecs): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }]),
  );
}

export function usage(commands: readonly Command[]): string {
  const lines = ['usage: syscontainer [--root DIR] [--registries-conf FILE] [--auth-file FILE] [--signature-policy FILE] [--registries.d DIR] [--debug] COMMAND', '', 'commands:'];
  const width = Math.max(...commands.map((command) => command.name.join(' ').length));
  for (const command of commands) lines.push(`  ${command.name.join(' ').padEnd(width)}   ${command.summary}`);
  lines.push('', 'Run `syscontainer COMMAND --help` for the options of a command.');
  return lines.join('\n');
}

function flag(name: string, spec: OptionSpec): string {
  const value = spec.type === 'string' ? ` ${spec.placeholder ?? 'VALUE'}` : '';
  return `${spec.short ? `-${spec.short}, ` : '    '}--${name}${value}${spec.multiple ? ' (repeatable)' : ''}`;
}

/** `COMMAND --help`: usage, summary, then one line per option, the command's and the global ones. */
export function commandUsage(command: Command): string {
  const options = Object.entries(command.options ?? {});
  const global = Object.entries(globalOptions);
  const width = Math.max(...[...options, ...global].map(([name, spec]) => flag(name, spec).length));
  const line = ([name, spec]: [string, OptionSpec]) => `  ${flag(name, spec).padEnd(width)}   ${spec.description}`;
  const lines = [`usage: syscontainer ${command.name.join(' ')} ${command.usage}`.trimEnd(), '', command.summary];
  if (options.length > 0) lines.push('', 'options:', ...options.map(line));
  lines.push('', 'global options:', ...global.map(line));
  return lines.join('\n');
}
