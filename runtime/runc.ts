// The one wrapper of the OCI runtime's command line (runc, or a compatible one given by
// `runtimePath`). Every call runs `RUNTIME [--root STATE] COMMAND ...`, optionally through a
// command prefix (nsenter into the test harness); failures become ERUNTIME errors carrying
// runc's own stderr line.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { capture } from '../common/captured-command.js';
import { SyscontainerError } from '../common/errors.js';
import { withPrefix } from './command-prefix.js';
import { runcPidFile } from './exit-status.js';

export interface RuncOptions {
  /** Path of the runtime binary; default `runc` from PATH. */
  runtimePath?: string;
  /** runc's state directory (`--root`); default runc's own (/run/runc for root). */
  stateRoot?: string;
  /** Run every command through this prefix (e.g. nsenter into a harness). */
  prefix?: readonly string[];
}

export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped' | string;
  bundle: string;
  created?: string;
}

/** A command running inside a container, its pipes as they come (Runc.execProcess). */
export interface ExecProcess {
  stdin: Writable | undefined;
  stdout: Readable;
  stderr: Readable;
  pid: number;
  exited: Promise<number>;
  /** Kills the runtime's exec process (runc passes the signal on to the command). */
  kill(signal?: NodeJS.Signals): void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The message of the last error runc logged in `output` (`level=error msg="..."`), or ''. */
export function runcError(output: string): string {
  const errors = output.split('\n').filter((line) => /level=error msg="/.test(line));
  return errors.length === 0 ? '' : lastLine(errors[errors.length - 1] as string);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  const line = lines[lines.length - 1] ?? '';
  // runc logs as `time="..." level=error msg="..."`: keep the message.
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return (msg?.[1] ?? line).slice(0, 500);
}

export class Runc {
  readonly runtimePath: string;
  private readonly stateRoot: string | undefined;
  private readonly prefix: readonly string[];

  constructor(options: RuncOptions = {}) {
    this.runtimePath = options.runtimePath ?? 'runc';
    this.stateRoot = options.stateRoot;
    this.prefix = options.prefix ?? [];
  }

  private command(args: readonly string[]): [string, string[]] {
    const global = this.stateRoot === undefined ? [] : ['--root', this.stateRoot];
    return withPrefix(this.prefix, this.runtimePath, [...global, ...args]);
  }

  private async run(args: readonly string[], what: string): Promise<string> {
    const [file, argv] = this.command(args);
    const result = await capture(file, argv);
    if (result.failed) {
      const detail = lastLine(String(result.stderr ?? '')) || result.shortMessage || 'failed';
      throw new SyscontainerError('ERUNTIME', `${what}: ${detail}`, { cause: result });
    }
    return String(result.stdout ?? '');
  }

  /**
   * The command line that runs container `id` from `bundle` in the foreground (`run`): it
   * returns when the container's process exits, with its exit code (128 + the signal's number
   * when a signal killed it), after runc deleted the container. For a monitor to spawn. runc
   * writes BUNDLE/container.pid once the container's process runs (exit-status.ts waitForStart).
   */
  runCommand(id: string, bundle: string): [string, string[]] {
    return this.command(['run', '--pid-file', `${bundle}/${runcPidFile}`, '--bundle', bundle, id]);
  }

  /** State of container `id`, or undefined when runc does not know it. */
  async state(id: string): Promise<RuncState | undefined> {
    const [file, argv] = this.command(['state', id]);
    const result = await capture(file, argv);
    if (result.failed) {
      const stderr = String(result.stderr ?? '');
      if (/does not exist|not found|container .* not exist/i.test(stderr)) return undefined;
      throw new SyscontainerError('ERUNTIME', `container ${id}: runc state: ${lastLine(stderr) || result.shortMessage}`, { cause: result });
    }
    return JSON.parse(String(result.stdout)) as RuncState;
  }

  /** All containers runc knows (`runc list --format json`). */
  async list(): Promise<RuncState[]> {
    const out = await this.run(['list', '--format', 'json'], 'runc list');
    const parsed: unknown = out.trim() === '' ? [] : JSON.parse(out);
    return Array.isArray(parsed) ? (parsed as RuncState[]) : [];
  }

  /** Sends `signal` to the container's init (or every process with `all`). */
  async kill(id: string, signal = 'TERM', options: { all?: boolean } = {}): Promise<void> {
    await this.run(['kill', ...(options.all ? ['--all'] : []), id, signal], `container ${id}: runc kill`);
  }

  /** Deletes container `id` (`--force` kills it first). Idempotent: a missing container is fine. */
  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    if ((await this.state(id)) === undefined) return;
    await this.run(['delete', ...(options.force ? ['--force'] : []), id], `container ${id}: runc delete`);
  }

  /** Runs `args` inside container `id` and returns its output; a non-zero exit is not an error. */
  async exec(id: string, args: readonly string[], options: { env?: readonly string[]; cwd?: string; user?: { uid: number; gid: number } } = {}): Promise<ExecResult> {
    const flags: string[] = [];
    if (options.user !== undefined) flags.push('--user', `${options.user.uid}:${options.user.gid}`);
    for (const e of options.env ?? []) flags.push('--env', e);
    if (options.cwd !== undefined) flags.push('--cwd', options.cwd);
    const [file, argv] = this.command(['exec', ...flags, id, ...args]);
    const result = await capture(file, argv);
    if (result.exitCode === undefined) {
      throw new SyscontainerError('ERUNTIME', `container ${id}: runc exec: ${result.shortMessage}`, { cause: result });
    }
    return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  }

  /**
   * Starts `args` inside container `id` and hands back its pipes as they are, for output that
   * must reach a client while the command runs (the REST service's exec). `stdin` gives the
   * command a pipe (ended by the caller: the command sees EOF then); without it, /dev/null.
   * `exited` resolves to the exit code (128 + the signal's number when killed), and rejects
   * only when the runtime could not be started at all.
   */
  execProcess(id: string, args: readonly string[], options: { stdin?: boolean; env?: readonly string[]; user?: { uid: number; gid: number } } = {}): ExecProcess {
    const flags: string[] = [];
    if (options.user !== undefined) flags.push('--user', `${options.user.uid}:${options.user.gid}`);
    for (const e of options.env ?? []) flags.push('--env', e);
    const [file, argv] = this.command(['exec', ...flags, id, ...args]);
    const child = spawn(file, argv, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new SyscontainerError('ERUNTIME', `container ${id}: cannot run ${this.runtimePath}: ${error.message}`, { cause: error })));
      child.once('close', (code, signal) => resolve(code ?? 128 + (signal !== null ? (osConstants.signals[signal] ?? 0) : 0)));
    });
    // A client gone before the command read its input: the pipe's EPIPE is no failure of ours.
    child.stdin?.on('error', () => undefined);
    return { stdin: child.stdin ?? undefined, stdout: child.stdout!, stderr: child.stderr!, pid: child.pid ?? 0, exited, kill: (signal = 'SIGKILL') => void child.kill(signal) };
  }

  /**
   * Runs container `id` from `bundle` in the foreground (`runc run`) until its process exits,
   * and returns its exit code and output; with `interactive` the caller's stdin/stdout/stderr
   * are attached and the output is not captured. runc deletes the container when it exits.
   */
  async runForeground(
    id: string,
    bundle: string,
    options: { interactive?: boolean; onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void; onStdin?: (stdin: Writable) => void } = {},
  ): Promise<ExecResult> {
    const [file, argv] = this.runCommand(id, bundle);
    let result;
    if (options.interactive) result = await execa(file, argv, { reject: false, stdio: 'inherit' });
    else {
      const child = execa(file, argv, { reject: false, stdin: options.onStdin !== undefined ? 'pipe' : 'ignore' });
      if (options.onStdin !== undefined && child.stdin !== null) {
        // The run may end before it read all its input: EPIPE then is no failure of the run.
        child.stdin.on('error', () => undefined);
        options.onStdin(child.stdin);
      }
      const onOutput = options.onOutput;
      if (onOutput !== undefined) {
        // Handed on as it comes (a one-off run's attached client sees it live); still collected.
        child.stdout?.on('data', (chunk: Buffer) => onOutput('stdout', chunk));
        child.stderr?.on('data', (chunk: Buffer) => onOutput('stderr', chunk));
      }
      result = await child;
    }
    if (result.exitCode === undefined) {
      throw new SyscontainerError('ERUNTIME', `container ${id}: runc run: ${result.shortMessage}`, { cause: result });
    }
    return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  }

  /** Like exec, with the caller's terminal attached (for the CLI); resolves to the exit code. */
  async execInteractive(id: string, args: readonly string[], options: { tty?: boolean } = {}): Promise<number> {
    const [file, argv] = this.command(['exec', ...(options.tty ? ['--tty'] : []), id, ...args]);
    const result = await execa(file, argv, { reject: false, stdio: 'inherit' });
    return result.exitCode ?? 1;
  }
}
