// Everything a command needs after `--version` was ruled out: the commands, the application
// layer and the output. cli/main.ts loads this module on demand; in the bundle it is the part
// that is compiled only when a command runs (scripts/bundle.mjs, cli/deferred-code.ts).
import { parseArgs } from 'node:util';
import { createContext, readSettings, settingVariables, SyscontainerError } from '../app/index.js';
import type { Command, OptionSpecs, OptionValues } from './command.js';
import { commands } from './commands/index.js';
import { commandUsage, globalOptions, parseArgsOptions, usage } from './help.js';
import { Output } from './output.js';

/** `syscontainer images` alone means `images list`, as with podman. */
const defaultSubcommands: Record<string, string> = { images: 'list', containers: 'list' };

/** Finds the longest command name that the leading positional words spell. */
function findCommand(commands: Command[], words: string[]): Command | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.name.every((part, index) => words[index] === part);
    if (matches && (!best || command.name.length > best.name.length)) best = command;
  }
  return best;
}

/** Splits argv so that, for exec-like commands, the words after N positionals stay untouched. */
function splitRaw(argv: string[], command: Command): { parsed: string[]; rest: string[] } {
  if (command.rawAfter === undefined) return { parsed: argv, rest: [] };
  let positionals = 0;
  const specs: OptionSpecs = { ...globalOptions, ...command.options };
  const stringOptions = new Set(
    Object.entries(specs)
      .filter(([, spec]) => spec.type === 'string')
      .flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]),
  );
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] as string;
    if (word === '--') return { parsed: argv.slice(0, index), rest: argv.slice(index + 1) };
    if (word.startsWith('-')) {
      if (stringOptions.has(word)) index++;
      continue;
    }
    positionals++;
    if (positionals === command.name.length + command.rawAfter) {
      return { parsed: argv.slice(0, index + 1), rest: argv.slice(index + 1) };
    }
  }
  return { parsed: argv, rest: [] };
}

const text = (values: OptionValues, name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

/** Runs the command `argv` names; `first` is main's lenient first parse of argv. */
export async function runCommand(argv: string[], env: NodeJS.ProcessEnv, first: { positionals: string[]; values: Record<string, unknown> }): Promise<number> {
  let out = new Output();
  let debug = env[settingVariables.debug] === '1';
  try {
    const words = first.positionals;
    const implied = words.length === 1 ? defaultSubcommands[words[0] as string] : undefined;
    if (implied !== undefined) argv = [...argv, implied];
    const command = findCommand(commands, implied !== undefined ? [...words, implied] : words);
    if (!command) {
      if (words.length === 0) {
        out.result(usage(commands));
        return first.values.help ? 0 : 2;
      }
      throw new SyscontainerError('EUSAGE', `unknown command: ${words.slice(0, 2).join(' ')}`, {
        hint: 'run `syscontainer --help` for the list of commands',
      });
    }
    const { parsed, rest } = splitRaw(argv, command);
    const { values, positionals } = parseArgs({
      args: parsed,
      options: parseArgsOptions({ ...globalOptions, ...command.options }),
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      out.result(commandUsage(command));
      return 0;
    }
    const settings = readSettings(env, {
      root: text(values, 'root'),
      registriesConf: text(values, 'registries-conf'),
      authFile: text(values, 'auth-file'),
      debug: values.debug === true,
      unitDir: text(values, 'unit-dir'),
      runtimePath: text(values, 'runtime'),
      signaturePolicy: text(values, 'signature-policy'),
      registriesD: text(values, 'registries.d'),
    });
    debug = settings.debug;
    out = new Output(process.stdout, process.stderr, values.quiet === true);
    if (command.progress) await out.enableLiveProgress();
    const status = await command.run({ app: createContext(settings), out, args: positionals.slice(command.name.length), options: values, rest });
    return status ?? 0;
  } catch (error) {
    const shown =
      error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')
        ? new SyscontainerError('EUSAGE', error.message, { hint: 'run with --help for the options' })
        : error;
    out.close();
    out.error(shown, debug);
    return shown instanceof SyscontainerError && shown.code === 'EUSAGE' ? 2 : 1;
  } finally {
    out.close();
  }
}

