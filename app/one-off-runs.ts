// `docker run --rm`: a one-off run of an image (runtime's runImageOnce: a temporary bundle, no
// unit, removed when it ends) that a client creates, attaches to, waits on and starts like a
// container. Between create and its end it lives here, in the service's memory: its output
// goes to whoever is attached, its exit code to whoever waits (docker's run waits before it
// starts); once ended it is removed, as --rm says. Nothing of it outlives the service. With
// openStdin (`docker run --rm -i`) its stdin is a pipe this service holds, fed by attach.
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { SyscontainerError } from '../common/errors.js';
import { normalizeSignal, runcOf, runImageOnce, type ContainerSpec } from '../runtime/index.js';
import type { AppContext } from './context.js';

export type OneOffState = 'created' | 'running' | 'exited';

export interface OneOffRun {
  id: string;
  name: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  containerSpec: ContainerSpec;
  /** docker's OpenStdin (run -i): the run gets a stdin pipe, fed by attach. */
  openStdin: boolean;
  created: Date;
  state: OneOffState;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  error?: string;
}

type OutputListener = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

interface Entry {
  run: OneOffRun;
  /** Ended and removed (docker's --rm): no longer listed, but a wait already under way gets the code. */
  removed: boolean;
  listeners: Set<OutputListener>;
  exited: Promise<void>;
  markExited: () => void;
  /** With openStdin: the run's stdin once it runs; what comes before (attach precedes start) waits in `input`. */
  stdin?: Writable;
  input: Buffer[];
  inputEnded: boolean;
}

export class OneOffRuns {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly app: AppContext,
    private readonly onChange: (run: OneOffRun, action: 'start' | 'die' | 'destroy') => void = () => undefined,
    private readonly keepMs = 60_000,
  ) {}

  async create(options: { name?: string; image: string; labels: Record<string, string>; containerSpec: ContainerSpec; openStdin?: boolean }): Promise<OneOffRun> {
    const image = await this.app.store.getImage(options.image);
    if (image === undefined) throw new SyscontainerError('ENOTFOUND', `image ${options.image} is not in the store`, { hint: 'pull it first' });
    const id = randomBytes(32).toString('hex');
    const name = options.name ?? `run-${id.slice(0, 12)}`;
    if (this.all().some((r) => r.name === name)) throw new SyscontainerError('EEXIST', `container ${name} already exists`);
    const run: OneOffRun = { id, name, image: image.name, imageId: image.configDigest, labels: options.labels, containerSpec: options.containerSpec, openStdin: options.openStdin === true, created: new Date(), state: 'created' };
    let markExited = () => undefined as void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    this.entries.set(id, { run, removed: false, listeners: new Set(), exited, markExited, input: [], inputEnded: false });
    return run;
  }

  /** The runs not yet removed. */
  all(): OneOffRun[] {
    return [...this.entries.values()].filter((e) => !e.removed).map((e) => e.run);
  }

  get(id: string): OneOffRun | undefined {
    return this.entries.get(id)?.run;
  }

  /** Output as it comes, until the run ends; returns the unsubscribe. */
  listen(id: string, listener: OutputListener): () => void {
    const entry = this.entries.get(id);
    if (entry === undefined) return () => undefined;
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  /**
   * Bytes for the run's stdin (an attached client's), in order, before or after it started;
   * `end()` is its EOF (docker's StdinOnce: the attached client is done). Only for openStdin runs.
   */
  stdinOf(id: string): { write(chunk: Buffer): void; end(): void } | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || !entry.run.openStdin) return undefined;
    return {
      write: (chunk) => {
        if (entry.inputEnded) return;
        if (entry.stdin !== undefined) entry.stdin.write(chunk);
        else entry.input.push(chunk);
      },
      end: () => {
        if (entry.inputEnded) return;
        entry.inputEnded = true;
        entry.stdin?.end();
      },
    };
  }

  /** Resolves when the run has ended (at once when it has). */
  async exited(id: string): Promise<OneOffRun | undefined> {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    await entry.exited;
    return entry.run;
  }

  /** Starts the run in the background; resolves once it is under way. */
  start(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) throw new SyscontainerError('ENOTFOUND', `container ${id} not found`);
    if (entry.run.state !== 'created') return;
    const run = entry.run;
    run.state = 'running';
    run.startedAt = new Date();
    this.onChange(run, 'start');
    void (async () => {
      try {
        const image = await this.app.store.getImage(run.imageId);
        if (image === undefined) throw new SyscontainerError('ENOTFOUND', `image ${run.image} is gone from the store`);
        const result = await runImageOnce(this.app.runtime, image, {
          name: run.name,
          containerSpec: run.containerSpec,
          onOutput: (stream, chunk) => {
            for (const listener of entry.listeners) listener(stream, chunk);
          },
          ...(run.openStdin
            ? {
                onStdin: (stdin: Writable) => {
                  entry.stdin = stdin;
                  for (const chunk of entry.input.splice(0)) stdin.write(chunk);
                  if (entry.inputEnded) stdin.end();
                },
              }
            : {}),
        });
        run.exitCode = result.exitCode;
      } catch (error) {
        run.exitCode = 125;
        run.error = error instanceof Error ? error.message : String(error);
        const line = Buffer.from(`${run.error}\n`);
        for (const listener of entry.listeners) listener('stderr', line);
      }
      run.state = 'exited';
      run.finishedAt = new Date();
      entry.listeners.clear();
      entry.removed = true;
      entry.markExited();
      this.onChange(run, 'die');
      this.onChange(run, 'destroy');
      // The record stays a while for the waits holding it, then goes.
      setTimeout(() => this.entries.delete(id), this.keepMs).unref();
    })();
  }

  /** Sends `signal` to a running run's process. */
  async kill(id: string, signal = 'KILL'): Promise<void> {
    const run = this.entries.get(id)?.run;
    if (run === undefined) throw new SyscontainerError('ENOTFOUND', `container ${id} not found`);
    if (run.state !== 'running') throw new SyscontainerError('EEXIST', `container ${run.name} is not running`);
    const ctx = this.app.runtime;
    await runcOf(ctx).kill(run.name, normalizeSignal(signal));
  }

  /** Removes a run that has not started or has ended; a running one is killed first (force). */
  async remove(id: string, force: boolean): Promise<void> {
    const entry = this.entries.get(id);
    if (entry === undefined) throw new SyscontainerError('ENOTFOUND', `container ${id} not found`);
    if (entry.run.state === 'running') {
      if (!force) throw new SyscontainerError('EEXIST', `container ${entry.run.name} is running: stop it first or remove with force`);
      await this.kill(id, 'KILL').catch(() => undefined);
      await entry.exited;
    }
    this.entries.delete(id);
    if (entry.run.state === 'created') {
      entry.markExited();
      this.onChange(entry.run, 'destroy');
    }
  }
}
