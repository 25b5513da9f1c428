// The shape every command module has. `cli/main.ts` parses the global options, picks the
// command, parses its options with node:util parseArgs, builds the application context and
// calls `run`, which calls one operation of app/ and prints its result.
import type { AppContext } from '../app/index.js';
import type { Output } from './output.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for `COMMAND --help`. */
  description: string;
  /** The value's name in help: `--name NAME`; default VALUE. */
  placeholder?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  app: AppContext;
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
  /** Draws live progress on a terminal (pull, push, install, update). */
  progress?: boolean;
  run(context: CommandContext): Promise<number | void>;
}
