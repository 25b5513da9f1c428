#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point: parses argv, dispatches to a command, prints errors as one line and exits.
// Nothing below cli/ reads argv, writes to stdout or decides exit codes.
// The small young generation (V8's default semi-space is 16 MiB) makes V8 collect the short-lived
// wrappers of a pull's stream buffers sooner, which frees their memory sooner: the pull of a
// 590 MiB image peaks at ~125 MiB instead of ~145 MiB, in the same time.
import { parseArgs } from 'node:util';
import { commands } from './commands/index.js';
import type { Command, GlobalSettings, OptionSpecs, OptionValues } from './command.js';
import { Output } from './output.js';
import { version } from './version.js';
import { SyscontainerError } from '../common/errors.js';
import { trustSettings } from '../store/index.js';

const globalOptions: OptionSpecs = {
  root: { type: 'string' },
  'registries-conf': { type: 'string' },
  'auth-file': { type: 'string' },
  'signature-policy': { type: 'string' },
  'registries.d': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};

const defaultRoot = '/var/lib/containers/atomic';

// The environment is read here, once, and passed down as settings; store/ reads none of it
// (store/registry/auth-file.ts excepted: the containers-auth.json(5) search path,
// REGISTRY_AUTH_FILE first, belongs to that file format). Unset, empty or malformed tuning
// values leave the default.
function settingsFrom(values: OptionValues, env: NodeJS.ProcessEnv): GlobalSettings {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    root: text('root') ?? env.SYSCONTAINER_ROOT ?? defaultRoot,
    registriesConf: text('registries-conf') ?? env.SYSCONTAINER_REGISTRIES_CONF ?? env.CONTAINERS_REGISTRIES_CONF,
    authFile: text('auth-file'),
    debug: values.debug === true || env.SYSCONTAINER_DEBUG === '1',
    trust: trustSettings({
      signaturePolicy: text('signature-policy') ?? (env.SYSCONTAINER_SIGNATURE_POLICY || undefined),
      registriesD: text('registries.d') ?? (env.SYSCONTAINER_REGISTRIES_D || undefined),
      home: env.HOME,
      uid: process.getuid?.() ?? 0,
    }),
    lockWaitMs: lockWaitFrom(env.SYSCONTAINER_LOCK_WAIT_MS),
    ...pullTuningFrom(env),
  };
}

/** SYSCONTAINER_LOCK_WAIT_MS: milliseconds, 0 for no wait. */
function lockWaitFrom(raw: string | undefined): number | undefined {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * For tests and slow or flaky networks:
 *   SYSCONTAINER_STALL_TIMEOUT_MS     no body bytes this long → abort and retry/resume (default 30 s)
 *   SYSCONTAINER_REQUEST_TIMEOUT_MS   response headers must arrive within this (default 60 s)
 *   SYSCONTAINER_RETRY_TRIES          attempts per request (default 5)
 *   SYSCONTAINER_RETRY_BASE_MS        first backoff (default 200 ms)
 *   SYSCONTAINER_MAX_LAYER_BYTES      largest uncompressed layer accepted (default 64 GiB)
 */
function pullTuningFrom(env: NodeJS.ProcessEnv): Pick<GlobalSettings, 'retry' | 'maxUncompressedBytes'> {
  const num = (key: string): number | undefined => {
    const raw = env[key];
    if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
    return Number(raw);
  };
  const retry: GlobalSettings['retry'] = {};
  const stall = num('SYSCONTAINER_STALL_TIMEOUT_MS');
  if (stall !== undefined && stall > 0) retry.stallTimeoutMs = stall;
  const request = num('SYSCONTAINER_REQUEST_TIMEOUT_MS');
  if (request !== undefined && request > 0) retry.requestTimeoutMs = request;
  const tries = num('SYSCONTAINER_RETRY_TRIES');
  if (tries !== undefined && tries > 0) retry.tries = tries;
  const base = num('SYSCONTAINER_RETRY_BASE_MS');
  if (base !== undefined) {
    retry.baseDelayMs = base;
    retry.maxDelayMs = Math.max(base, Math.min(5_000, base * 16));
    retry.retryAfterCapMs = Math.max(base, Math.min(30_000, base * 16));
  }
  const maxLayer = num('SYSCONTAINER_MAX_LAYER_BYTES');
  return { retry, maxUncompressedBytes: maxLayer !== undefined && maxLayer > 0 ? maxLayer : undefined };
}

/** `syscontainer images` alone means `images list`, as with podman. */
const defaultSubcommands: Record<string, string> = { images: 'list', containers: 'list' };

/** Finds the longest command name that the leading positional words spell. */
function findCommand(words: string[]): Command | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.name.every((part, index) => words[index] === part);
    if (matches && (!best || command.name.length > best.name.length)) best = command;
  }
  return best;
}

function usage(): string {
  const lines = ['usage: syscontainer [--root DIR] [--registries-conf FILE] [--auth-file FILE] [--signature-policy FILE] [--registries.d DIR] [--debug] COMMAND', '', 'commands:'];
  const width = Math.max(...commands.map((command) => command.name.join(' ').length));
  for (const command of commands) lines.push(`  ${command.name.join(' ').padEnd(width)}   ${command.summary}`);
  lines.push('', 'Run `syscontainer COMMAND --help` for the options of a command.');
  return lines.join('\n');
}

function commandUsage(command: Command): string {
  const lines = [`usage: syscontainer ${command.name.join(' ')} ${command.usage}`, '', command.summary];
  const options = Object.entries(command.options ?? {});
  if (options.length > 0) {
    lines.push('', 'options:');
    for (const [name, spec] of options) {
      const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
      lines.push(`  ${flag}${spec.multiple ? ' (repeatable)' : ''}`);
    }
  }
  return lines.join('\n');
}

/** Splits argv so that, for exec-like commands, the words after N positionals stay untouched. */
function splitRaw(argv: string[], command: Command): { parsed: string[]; rest: string[] } {
  if (command.rawAfter === undefined) return { parsed: argv, rest: [] };
  let positionals = 0;
  const stringOptions = new Set(
    Object.entries({ ...globalOptions, ...command.options })
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

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let out = new Output();
  let debug = env.SYSCONTAINER_DEBUG === '1';
  try {
    const first = parseArgs({ args: argv, options: globalOptions, strict: false, allowPositionals: true });
    if (first.values.version) {
      out.result(`syscontainer ${version()}`);
      return 0;
    }
    const words = first.positionals;
    const implied = words.length === 1 ? defaultSubcommands[words[0] as string] : undefined;
    if (implied !== undefined) argv = [...argv, implied];
    const command = findCommand(implied !== undefined ? [...words, implied] : words);
    if (!command) {
      if (words.length === 0) {
        out.result(usage());
        return first.values.help ? 0 : 2;
      }
      throw new SyscontainerError('EUSAGE', `unknown command: ${words.slice(0, 2).join(' ')}`, {
        hint: 'run `syscontainer --help` for the list of commands',
      });
    }
    const { parsed, rest } = splitRaw(argv, command);
    const { values, positionals } = parseArgs({
      args: parsed,
      options: { ...globalOptions, ...command.options },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      out.result(commandUsage(command));
      return 0;
    }
    const settings = settingsFrom(values, env);
    debug = settings.debug;
    out = new Output(process.stdout, process.stderr, values.quiet === true);
    const status = await command.run({ settings, out, args: positionals.slice(command.name.length), options: values as OptionValues, rest });
    return status ?? 0;
  } catch (error) {
    const shown =
      error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')
        ? new SyscontainerError('EUSAGE', error.message, { hint: 'run with --help for the options' })
        : error;
    out.error(shown, debug);
    return shown instanceof SyscontainerError && shown.code === 'EUSAGE' ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
