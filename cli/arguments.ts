// Typed reads of parsed option values, and the usage errors of positional arguments.
import { parseSetArguments, SyscontainerError } from '../app/index.js';
import type { OptionValues } from './command.js';

export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

export function stringList(options: OptionValues, name: string): string[] {
  const value = options[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** `--set KEY=VALUE`... as a record; EINVAL naming a malformed one. */
export function setValues(options: OptionValues): Record<string, string> {
  return parseSetArguments(stringList(options, 'set'));
}

/** The single positional argument of `command` (`what` names it in the error). */
export function onlyArgument(args: string[], command: string, what = 'NAME'): string {
  const [value, ...extra] = args;
  if (value === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', `${command} takes exactly one ${what}`);
  return value;
}
