// The operations on one installed container that the runtime carries out as they are:
// rollback, uninstall, start/stop/restart, status, logs, exec; and the listing.
import {
  exec,
  startExec,
  kill,
  launch,
  followLogs as runtimeFollowLogs,
  list,
  logs as runtimeLogs,
  restart,
  rollback,
  start,
  status,
  stop,
  uninstall,
  type ContainerListEntry,
  type ContainerStatus,
  type DeploymentResult,
} from '../runtime/index.js';
import type { Writable } from 'node:stream';
import { runtimeFor, type AppContext, type OperationEvents } from './context.js';
import { eventSubject, tellContainerEvent, tellExits } from './container-events.js';
import { exitAfterKill } from './container-exit.js';
import { listFilter } from './list-filters.js';

export interface ContainerInput {
  name: string;
}

export interface RollbackInput extends ContainerInput {
  /** How long the deployment rolled back to has to report healthy, when it has a check. */
  healthDeadlineMs?: number;
}

/**
 * Back to the previous deployment, unit and all; restarted when it was running, and gated on
 * its health check as an update is (when it does not come up healthy, the one before returns).
 */
export async function rollbackContainer(app: AppContext, input: RollbackInput, events: OperationEvents = {}): Promise<DeploymentResult> {
  return rollback(await runtimeFor(app, events), { name: input.name, ...(input.healthDeadlineMs !== undefined ? { healthDeadlineMs: input.healthDeadlineMs } : {}) });
}

/**
 * Stops and removes the container: unit, tmpfiles, deployments; with `purge` its state
 * directory too. With `kill` a running container is killed first rather than stopped
 * gracefully (docker's rm -f: kill, die, destroy). Its exits are told (die) before its
 * deployment, where they are recorded, goes.
 */
export async function uninstallContainer(app: AppContext, input: ContainerInput & { purge?: boolean; kill?: boolean }, events: OperationEvents = {}): Promise<void> {
  const subject = await eventSubject(app, input.name);
  const ctx = await runtimeFor(app, events);
  if (subject !== undefined) {
    if (input.kill === true) {
      const waited = await exitAfterKill(app, input.name, () => killContainer(app, { name: input.name, signal: 'KILL' }));
      if (!waited) events.log?.(`container ${input.name}: no exit recorded after KILL; stopping it`);
    }
    // The exit recorded (stop returns once the unit or monitor wrote it), then told, then removed.
    await stop(ctx, { name: input.name }).catch(() => undefined);
    await tellExits(app, input.name);
  }
  await uninstall(ctx, { name: input.name, purge: input.purge === true });
  await tellContainerEvent(app, subject, 'destroy');
}

/** Idempotent. */
export async function startContainer(app: AppContext, input: ContainerInput, events: OperationEvents = {}): Promise<void> {
  await start(await runtimeFor(app, events), { name: input.name });
  await tellContainerEvent(app, await eventSubject(app, input.name), 'start');
}

/**
 * Stops it and every process of it. Idempotent. With `timeoutSec` (docker's stop -t), a
 * container still up that long after its stop signal is killed (the unit's own stop timeout is
 * longer). Its exit is told (die), then the stop, as docker orders them.
 */
export async function stopContainer(app: AppContext, input: ContainerInput & { timeoutSec?: number }, events: OperationEvents = {}): Promise<void> {
  const ctx = await runtimeFor(app, events);
  const timer = input.timeoutSec === undefined ? undefined : setTimeout(() => void kill(app.runtime, { name: input.name, signal: 'KILL' }).catch(() => undefined), input.timeoutSec * 1000);
  try {
    await stop(ctx, { name: input.name });
  } finally {
    clearTimeout(timer);
  }
  await tellExits(app, input.name);
  await tellContainerEvent(app, await eventSubject(app, input.name), 'stop');
}

/** Starts it without waiting to see it stay up: docker's start, for what may be a command that runs and exits. Idempotent: 'running' when it ran already. */
export async function launchContainer(app: AppContext, input: ContainerInput, events: OperationEvents = {}): Promise<'started' | 'running'> {
  const result = await launch(await runtimeFor(app, events), { name: input.name });
  if (result === 'started') await tellContainerEvent(app, await eventSubject(app, input.name), 'start');
  return result;
}

/** docker's restart: stopped (as stopContainer), then launched (as launchContainer), then told as a restart. */
export async function relaunchContainer(app: AppContext, input: ContainerInput & { timeoutSec?: number }, events: OperationEvents = {}): Promise<void> {
  await stopContainer(app, input, events);
  await launchContainer(app, { name: input.name }, events);
  await tellContainerEvent(app, await eventSubject(app, input.name), 'restart');
}

/** Sends `signal` (a name or number; default KILL) to the container's init; the unit records the exit as for any other. */
export async function killContainer(app: AppContext, input: ContainerInput & { signal?: string }): Promise<void> {
  // Told at the time it was sent: the die it causes may be recorded before this is written, and comes after.
  const sentMs = Date.now();
  await kill(app.runtime, { name: input.name, ...(input.signal !== undefined ? { signal: input.signal } : {}) });
  await tellContainerEvent(app, await eventSubject(app, input.name), 'kill', { signal: input.signal ?? 'KILL' }, sentMs);
}

export async function restartContainer(app: AppContext, input: ContainerInput, events: OperationEvents = {}): Promise<void> {
  await restart(await runtimeFor(app, events), { name: input.name });
  await tellExits(app, input.name);
  await tellContainerEvent(app, await eventSubject(app, input.name), 'restart');
}

export function containerStatus(app: AppContext, input: ContainerInput): Promise<ContainerStatus> {
  return status(app.runtime, { name: input.name });
}

export interface LogsInput extends ContainerInput {
  /** Only the last N lines. */
  lines?: number;
}

/** The container's output so far: the unit's journal with systemd, its log file without. */
export function containerLogs(app: AppContext, input: LogsInput): Promise<string> {
  return runtimeLogs(app.runtime, { name: input.name, ...(input.lines !== undefined ? { lines: input.lines } : {}) });
}

/** Hands the container's output to `write` as it comes, until `signal` aborts; resolves then. */
export function followContainerLogs(app: AppContext, input: LogsInput & { write: (chunk: string) => void; signal: AbortSignal }): Promise<void> {
  return runtimeFollowLogs(app.runtime, {
    name: input.name,
    write: input.write,
    signal: input.signal,
    ...(input.lines !== undefined ? { lines: input.lines } : {}),
  });
}

export interface ExecInput extends ContainerInput {
  command: readonly string[];
  /** Attach the caller's stdin, stdout and stderr (output is then not captured). */
  interactive?: boolean;
  /** With interactive: allocate a terminal. */
  tty?: boolean;
  /** Run as UID[:GID] or NAME[:GROUP] of the container's image instead of its own user. */
  user?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in the running container; a non-zero exit code is a result, not an error. */
export function execInContainer(app: AppContext, input: ExecInput): Promise<ExecResult> {
  return exec(app.runtime, {
    name: input.name,
    command: input.command,
    ...(input.interactive !== undefined ? { interactive: input.interactive } : {}),
    ...(input.tty !== undefined ? { tty: input.tty } : {}),
    ...(input.user !== undefined ? { user: input.user } : {}),
  });
}

export interface StreamingExecInput extends ContainerInput {
  command: readonly string[];
  user?: string;
  /** KEY=VALUE set for the command besides the container's own. */
  env?: readonly string[];
  /** Give the command a stdin the caller writes (returned as `stdin`, ended by the caller). */
  stdin?: boolean;
  /** Each chunk of output as the command writes it, on the stream it wrote it to. */
  onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface StreamingExec {
  stdin: Writable | undefined;
  pid: number;
  /** The exit code, once the command ended and all its output went to onOutput. */
  exitCode: Promise<number>;
  kill(): void;
}

/**
 * Starts a command in the running container, its output handed on while it runs (what the
 * REST service's exec start streams); rejects when it cannot start (not installed, not running).
 */
export async function execStreaming(app: AppContext, input: StreamingExecInput): Promise<StreamingExec> {
  const child = await startExec(app.runtime, {
    name: input.name,
    command: input.command,
    ...(input.user !== undefined ? { user: input.user } : {}),
    ...(input.env !== undefined ? { env: input.env } : {}),
    ...(input.stdin ? { stdin: true } : {}),
  });
  child.stdout.on('data', (chunk: Buffer) => input.onOutput('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => input.onOutput('stderr', chunk));
  return { stdin: child.stdin, pid: child.pid, exitCode: child.exited, kill: () => child.kill() };
}

/**
 * An installed container as listed; `imageId` is the full image id (sha256:…); `config` the
 * apply config id that owns it; `backend` as atomic named it: `ostree`, or `ostree/atomic` for
 * a deployment atomic itself wrote.
 */
export type ContainerSummary = Omit<ContainerListEntry, 'configId'> & { config?: string; backend: 'ostree' | 'ostree/atomic' };

/** What `--filter KEY=VALUE` of the container listing matches (as atomic's `containers list -f`). */
export const containerFilterKeys = ['container', 'image', 'backend', 'runtime', 'state', 'config'] as const;

/** Every installed container with its state; with `filters` (KEY=VALUE, containerFilterKeys) those matching them all. */
export async function listContainers(app: AppContext, input: { filters?: readonly string[] } = {}): Promise<ContainerSummary[]> {
  const matches = listFilter(input.filters ?? [], containerFilterKeys, ['config']);
  return (await list(app.runtime))
    .map(({ configId, ...entry }): ContainerSummary => ({ ...entry, ...(configId !== undefined ? { config: configId } : {}), backend: entry.origin === 'atomic' ? 'ostree/atomic' : 'ostree' }))
    .filter((e) => matches({ container: e.name, image: e.image, backend: e.backend, runtime: e.runtime, state: e.state, config: e.config ?? '' }));
}
