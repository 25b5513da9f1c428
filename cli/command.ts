// The shape every command module has. `cli/main.ts` parses global options, picks the
// command, parses its options with node:util parseArgs and calls `run`.
import type { ParseArgsConfig } from 'node:util';
import type { RetryOptions } from '../store/index.js';
import type { Output } from './output.js';
import type { TrustSettings } from '../store/index.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Settings every command receives, from global options or their environment variables. */
export interface GlobalSettings {
  root: string;
  registriesConf: string | undefined;
  authFile: string | undefined;
  debug: boolean;
  /** Where the signature policy and registries.d are (pulls verify by them). */
  trust: TrustSettings;
  /** How long a lock waits for another command before ELOCKED (default 5 min). */
  lockWaitMs: number | undefined;
  /** Registry retry and timeout tuning; empty for the defaults. */
  retry: Partial<RetryOptions>;
  /** Largest uncompressed layer a pull accepts (default 64 GiB). */
  maxUncompressedBytes: number | undefined;
}

export interface CommandContext {
  settings: GlobalSettings;
  out: Output;
  /** Positional arguments after the command (and subcommand) name. */
  args: string[];
  options: OptionValues;
  /** For commands that take a command line to run (exec, run): the words after `rawAfter` positionals, untouched. */
  rest: string[];
}

export interface Command {
  /** Words that select the command: ['pull'] or ['images', 'list']. */
  name: string[];
  summary: string;
  /** One line of usage after `syscontainer NAME`. */
  usage: string;
  options?: OptionSpecs;
  /** When set, everything after this many positionals is passed raw in `rest` (exec NAME CMD...). */
  rawAfter?: number;
  run(context: CommandContext): Promise<number | void>;
}
