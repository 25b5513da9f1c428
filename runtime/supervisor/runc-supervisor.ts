// The runc-direct supervisor, for hosts without a systemd manager (containers, CI): each
// container runs under its monitor (container-monitor.ts: `runc run NAME` in the foreground,
// output appended to DIR/container.log with each line's time and stream, the exit recorded in
// DIR/exit-status as the unit does under systemd, and run again as the unit's Restart= says:
// monitor-restart.ts). Nothing starts it at boot; the unit file is written all the same, for
// when the host runs systemd. A kill is a signal only, as under systemd: the policy decides
// whether the container comes back; a stop is what keeps it down.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError } from '../../common/errors.js';
import { runcError, type Runc } from '../runc.js';
import type { JournalEntry } from '../systemd.js';
import type { LaunchOutcome, OutputEntriesQuery, StartOutcome, SupervisedState, Supervisor } from './supervisor.js';
import { removeUnitCgroups } from './unit-cgroups.js';
import { isOneshotBundle, oneshotSuccessCodes } from '../oneshot.js';
import { podNetnsName } from '../container-spec.js';
import { IpNetns } from '../ip-netns.js';
import { markStarted, readRunRecord, recordExit, waitForStart, type ContainerExit } from '../exit-status.js';
import { containerLogName, monitorEnded, monitorPid, readRestartCount, recordLostExit, requestStop, spawnMonitor } from './container-monitor.js';
import { restartRules, type RestartRules } from './monitor-restart.js';
import { unitName } from '../unit-files.js';
import { DeploymentStore } from '../deployment.js';
import { formatContainerLog, logMessages, parseContainerLog } from './container-log.js';

export { containerLogName };

/** How long a stop waits for the container to exit after TERM, then after KILL. */
const stopGraceMs = 5000;
const killGraceMs = 3000;
/** How long a stop goes on stopping runs its monitor started meanwhile (a restart that slipped in before it saw the stop). */
const stopBoundMs = 30_000;

/** The last `lines` lines of `text` (all of it when undefined), as journalctl -n counts them. */
export function lastLines(text: string, lines: number | undefined): string {
  return lines === undefined ? text : text.split('\n').slice(-lines - 1).join('\n');
}

/**
 * Stops what runc runs as `name`: TERM, up to 5 s for it to exit, then `runc delete --force`
 * (KILL to whatever is left). Idempotent. The systemd supervisor ends a stop with it: it clears
 * the state runc keeps after the unit stopped, which would refuse the next `runc run NAME`.
 */
export async function killAndDelete(runc: Runc, name: string): Promise<void> {
  const state = await runc.state(name);
  if (state !== undefined && state.status === 'running') {
    await runc.kill(name, 'TERM').catch(() => undefined);
    for (let i = 0; i < 50 && (await runc.state(name))?.status === 'running'; i++) await sleep(100);
  }
  await runc.delete(name, { force: true });
}

/** runc's status of each of `names` ('stopped' for one runc does not know). */
export async function runcStates(runc: Runc, names: readonly string[]): Promise<Map<string, string>> {
  const known = new Map((await runc.list().catch(() => [])).map((s) => [s.id, s.status]));
  return new Map(names.map((name) => [name, known.get(name) ?? 'stopped']));
}

/** The state word of a container that does not run, as systemd's: exited with 0, failed otherwise, stopped before any run. */
function stateOfExit(exit: ContainerExit | undefined): string {
  return exit === undefined ? 'stopped' : exit.exitCode === 0 ? 'exited' : 'failed';
}

export class RuncSupervisor implements Supervisor {
  readonly kind = 'runc';
  readonly schedulesHealthChecks = false;

  constructor(
    private readonly runc: Runc,
    private readonly settleMs: number,
    /** Pods' network namespaces, made directly (the same command prefix as runc). */
    private readonly netns: IpNetns = new IpNetns(),
    /** The deployments' root (DeploymentStore): where a stop finds a monitor between two runs, when runc knows no container. */
    private readonly root?: string,
  ) {}

  /** The restart rules of the unit the deployment in `bundle` holds (none: runs once). */
  private async rulesOf(name: string, bundle: string): Promise<RestartRules> {
    return restartRules(await readFile(path.join(bundle, unitName(name)), 'utf8').catch(() => ''));
  }

  /** Spawns the container's monitor, after ending one that waits to restart it (runc knows no container then). */
  private async spawn(name: string, bundle: string): Promise<RestartRules> {
    if ((await monitorPid(bundle)) !== undefined) await this.stop(name);
    const rules = await this.rulesOf(name, bundle);
    await spawnMonitor(bundle, this.runc.runCommand(name, bundle), rules);
    return rules;
  }

  async ensurePodNetwork(pod: string, _unit: { file: string; text: string }): Promise<void> {
    // Nothing starts units here: the namespace is made now, and the unit is not written.
    await this.netns.ensure(podNetnsName(pod));
  }

  async removePodNetwork(pod: string, unitFile: string): Promise<void> {
    await this.netns.remove(podNetnsName(pod));
    await rm(unitFile, { force: true });
  }

  async isRunning(name: string): Promise<boolean> {
    return (await this.runc.state(name))?.status === 'running';
  }

  async launch(name: string, bundle: string): Promise<LaunchOutcome> {
    const state = await this.runc.state(name);
    if (state?.status === 'running') return 'running';
    // runc forgets a container its monitor's `runc run` saw exit; one it still knows goes first.
    if (state !== undefined) await this.clear(name);
    await this.spawn(name, bundle);
    // Until runc runs it (its pid file) or it has already exited (its record; bounded), so
    // the next listing sees it started.
    await waitForStart(bundle, 5000);
    return 'started';
  }

  async kill(name: string, signal: string): Promise<void> {
    await this.runc.kill(name, signal);
  }

  async start(name: string, bundle: string): Promise<StartOutcome> {
    await this.clear(name);
    const logFile = path.join(bundle, containerLogName);
    if (await isOneshotBundle(bundle)) {
      // Runs to completion in the foreground; its output and exit go where a service's would.
      await markStarted(bundle);
      const result = await this.runc.runForeground(name, bundle);
      const now = Date.now() * 1000;
      await writeFile(logFile, formatContainerLog(result.stdout, 'stdout', now) + formatContainerLog(result.stderr, 'stderr', now)).catch(() => undefined);
      await recordExit(bundle, { result: result.exitCode === 0 ? 'success' : 'exit-code', how: 'exited', status: result.exitCode });
      if (!(await oneshotSuccessCodes(bundle)).includes(result.exitCode)) {
        const output = `${result.stdout}${result.stderr}`.trim();
        throw new SyscontainerError('ERUNTIME', `container ${name} (run once) exited with ${result.exitCode}`, {
          hint: output === '' ? undefined : `last output:\n${output.split('\n').slice(-5).join('\n')}`,
        });
      }
      return 'exited';
    }
    const logStart = (await readFile(logFile).catch(() => Buffer.alloc(0))).length;
    const rules = await this.spawn(name, bundle);
    await sleep(this.settleMs);
    let exit = (await readRunRecord(bundle)).exit;
    const state = exit === undefined ? await this.runc.state(name) : undefined;
    if (exit === undefined && state?.status !== 'running') {
      // Not running and not recorded yet: the monitor is writing it, or runc is still starting it.
      await monitorEnded(bundle, 2000);
      exit = (await readRunRecord(bundle)).exit;
    }
    // Ended with status 0 (the monitor saw runc's, which is the container's) and not run again: a
    // one-shot service. With Restart=always it is a loop, which systemd's start refuses too.
    if (exit?.exitCode === 0 && rules.restart !== 'always') return 'exited';
    if (exit === undefined && (state?.status === 'running' || (await this.runc.state(name))?.status === 'running')) return 'running';
    await this.stop(name).catch(() => undefined);
    // Its monitor done with the directory (a failed install removes it next).
    await monitorEnded(bundle, killGraceMs);
    const log = logMessages((await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(logStart).toString('utf8')).trim();
    // runc's own reason, when it could not run the container at all (its cgroup, the rootfs, …).
    const reason = runcError(log);
    const why = reason !== '' ? `runc: ${reason}` : exit === undefined ? `runc: ${state?.status ?? 'gone'}` : `exited with ${exit.exitCode}`;
    throw new SyscontainerError('ERUNTIME', `container ${name} did not stay running (${why})`, {
      hint: log === '' ? undefined : `last output:\n${log.split('\n').slice(-5).join('\n')}`,
    });
  }

  /**
   * Stops the container: tells its monitor to run it no more, then TERM, up to 5 s for it to
   * exit, then KILL; returns once its monitor ended (again for a run it started before it saw
   * the stop; bounded: 30 s) and runc forgot it. A container whose monitor was killed gets the
   * lost exit recorded here instead.
   */
  async stop(name: string): Promise<void> {
    const first = await this.runc.state(name);
    const dirs = await this.monitoredDirs(name, first?.bundle);
    if (first === undefined && dirs.length === 0) return;
    // Before any signal: the monitor looks for it after the exit the signal brings.
    for (const dir of dirs) await requestStop(dir);
    for (const deadline = Date.now() + stopBoundMs; ; ) {
      const state = await this.runc.state(name);
      if (state?.status === 'running') {
        await this.runc.kill(name, 'TERM').catch(() => undefined);
        if (!(await this.exited(name, state.bundle, stopGraceMs))) {
          await this.runc.kill(name, 'KILL').catch(() => undefined);
          await this.exited(name, state.bundle, killGraceMs);
        }
      }
      if (state !== undefined) await this.clear(name);
      if (await this.monitorsEnded(dirs, 200)) break;
      if (Date.now() >= deadline) throw new SyscontainerError('ERUNTIME', `container ${name}: its monitor still runs ${stopBoundMs / 1000} s after the stop`);
    }
    for (const dir of dirs) await recordLostExit(dir);
  }

  /** The deployment directories of `name` whose monitor runs, and `bundle` (runc's) whether or not one does. */
  private async monitoredDirs(name: string, bundle: string | undefined): Promise<string[]> {
    const store = this.root === undefined ? undefined : new DeploymentStore(this.root);
    const slots = store === undefined ? [] : [store.slotDir(name, 0), store.slotDir(name, 1)];
    const live = await Promise.all(slots.map(async (dir) => ((await monitorPid(dir)) !== undefined ? dir : undefined)));
    return [...new Set([...(bundle !== undefined ? [bundle] : []), ...live.filter((dir) => dir !== undefined)])];
  }

  private async monitorsEnded(dirs: readonly string[], ms: number): Promise<boolean> {
    return (await Promise.all(dirs.map((dir) => monitorEnded(dir, ms)))).every(Boolean);
  }

  /** Whether, within `ms`, the container stopped running and its monitor (when it has one) ended. */
  private async exited(name: string, bundle: string, ms: number): Promise<boolean> {
    for (const deadline = Date.now() + ms; ; ) {
      if ((await this.runc.state(name))?.status !== 'running') return monitorEnded(bundle, Math.max(0, deadline - Date.now()));
      if (Date.now() >= deadline) return false;
      await sleep(50);
    }
  }

  /** runc's state of a container that no longer runs removed, so its name can run again. */
  private async clear(name: string): Promise<void> {
    await this.runc.delete(name, { force: true }).catch(async (error: unknown) => {
      // Its monitor's runc deleted it meanwhile: that is what was wanted.
      if ((await this.runc.state(name)) !== undefined) throw error;
    });
  }

  async restart(name: string, bundle: string): Promise<StartOutcome> {
    await this.stop(name);
    return this.start(name, bundle);
  }

  async reload(): Promise<void> {
    // runc reads no unit files.
  }

  async startHostUnit(): Promise<boolean> {
    return false;
  }

  async enable(): Promise<boolean> {
    return false;
  }

  async disable(): Promise<void> {
    // Nothing was enabled.
  }

  forget(name: string): Promise<void> {
    return removeUnitCgroups(name);
  }

  async status(name: string, bundle: string): Promise<SupervisedState> {
    const state = await this.runc.state(name);
    const restarts = await readRestartCount(bundle);
    if (state?.status === 'running') return { state: 'running', pid: state.pid, enabled: undefined, details: undefined, restarts };
    // Not running: a monitor killed by KILL left no record of the exit; one is written now.
    await recordLostExit(bundle);
    return { state: stateOfExit((await readRunRecord(bundle)).exit), pid: undefined, enabled: undefined, details: undefined, restarts };
  }

  async states(containers: readonly { name: string; bundle: string }[]): Promise<Map<string, string>> {
    const states = await runcStates(this.runc, containers.map((c) => c.name));
    // runc forgets a container once it has exited; its run record says how it ended, as status() does (read-only here).
    await Promise.all(
      containers.filter(({ name }) => states.get(name) === 'stopped').map(async ({ name, bundle }) => states.set(name, stateOfExit((await readRunRecord(bundle)).exit))),
    );
    return states;
  }

  async logs(_name: string, bundle: string, options: { lines?: number }): Promise<string> {
    return lastLines(logMessages(await readFile(path.join(bundle, containerLogName), 'utf8').catch(() => '')), options.lines);
  }

  async followLogs(_name: string, bundle: string, options: { lines?: number; write: (chunk: string) => void; signal: AbortSignal }): Promise<void> {
    const file = path.join(bundle, containerLogName);
    let bytes = await readFile(file).catch(() => Buffer.alloc(0));
    let offset = wholeLines(bytes);
    const initial = lastLines(logMessages(bytes.subarray(0, offset).toString('utf8')), options.lines);
    if (initial !== '') options.write(initial);
    while (!options.signal.aborted) {
      await sleep(500, undefined, { signal: options.signal }).catch(() => undefined);
      bytes = await readFile(file).catch(() => Buffer.alloc(0));
      if (bytes.length < offset) offset = 0; // the file was truncated: all of it is new
      const end = wholeLines(bytes);
      if (end > offset) options.write(logMessages(bytes.subarray(offset, end).toString('utf8')));
      offset = Math.max(offset, end);
    }
  }

  async outputEntries(_name: string, bundle: string, query: OutputEntriesQuery): Promise<{ entries: JournalEntry[]; cursor: string | undefined }> {
    const file = path.join(bundle, containerLogName);
    const [bytes, info] = await Promise.all([readFile(file).catch(() => Buffer.alloc(0)), stat(file).catch(() => undefined)]);
    // The cursor is the byte length of the whole lines already handed out.
    const from = query.cursor !== undefined && Number(query.cursor) <= bytes.length ? Number(query.cursor) : 0;
    const end = wholeLines(bytes);
    // Lines from before the streams were kept apart have no time of their own: the file's.
    let entries = parseContainerLog(bytes.subarray(from, Math.max(from, end)).toString('utf8'), (info?.mtimeMs ?? 0) * 1000);
    if (query.sinceMs !== undefined) entries = entries.filter((e) => e.timeUsec >= query.sinceMs! * 1000);
    if (query.untilMs !== undefined) entries = entries.filter((e) => e.timeUsec <= query.untilMs! * 1000);
    if (query.lines !== undefined) entries = query.lines === 0 ? [] : entries.slice(-query.lines);
    return { entries, cursor: String(Math.max(from, end)) };
  }
}

/** The length of `bytes` up to its last newline: a tagger's line may be half-written. */
function wholeLines(bytes: Buffer): number {
  return bytes.lastIndexOf(0x0a) + 1;
}
