// The runc-direct supervisor, for hosts without a systemd manager (containers, CI): runc runs
// the container in the background (`runc run -d`, pid file DIR/container.pid), its output
// appended to DIR/container.log. Nothing restarts it or starts it at boot; the unit file is
// written all the same, for when the host runs systemd.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError } from '../../common/errors.js';
import type { Runc } from '../runc.js';
import type { StartOutcome, SupervisedState, Supervisor } from './supervisor.js';
import { removeUnitCgroups } from './unit-cgroups.js';
import { isOneshotBundle, oneshotSuccessCodes } from '../oneshot.js';
import { podNetnsName } from '../container-spec.js';
import { IpNetns } from '../ip-netns.js';

export const containerLogName = 'container.log';

/** The last `lines` lines of `text` (all of it when undefined), as journalctl -n counts them. */
export function lastLines(text: string, lines: number | undefined): string {
  return lines === undefined ? text : text.split('\n').slice(-lines - 1).join('\n');
}

/**
 * Stops what runc runs as `name`: TERM, up to 5 s for it to exit, then `runc delete --force`
 * (KILL to whatever is left). Idempotent. Both supervisors end a stop with it: under systemd it
 * clears the state runc keeps after the unit stopped, which would refuse the next `runc run NAME`.
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

export class RuncSupervisor implements Supervisor {
  readonly kind = 'runc';
  readonly schedulesHealthChecks = false;

  constructor(
    private readonly runc: Runc,
    private readonly settleMs: number,
    /** Pods' network namespaces, made directly (the same command prefix as runc). */
    private readonly netns: IpNetns = new IpNetns(),
  ) {}

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

  async launch(name: string, bundle: string): Promise<void> {
    await this.runc.delete(name, { force: true });
    await this.runc.runDetached(name, bundle, { logFile: path.join(bundle, containerLogName), pidFile: path.join(bundle, 'container.pid') });
  }

  async kill(name: string, signal: string): Promise<void> {
    await this.runc.kill(name, signal);
  }

  async start(name: string, bundle: string): Promise<StartOutcome> {
    await this.runc.delete(name, { force: true });
    const logFile = path.join(bundle, containerLogName);
    if (await isOneshotBundle(bundle)) {
      // Runs to completion in the foreground; its output goes where a service's would.
      const result = await this.runc.runForeground(name, bundle);
      await writeFile(logFile, `${result.stdout}${result.stderr}`).catch(() => undefined);
      if (!(await oneshotSuccessCodes(bundle)).includes(result.exitCode)) {
        const output = `${result.stdout}${result.stderr}`.trim();
        throw new SyscontainerError('ERUNTIME', `container ${name} (run once) exited with ${result.exitCode}`, {
          hint: output === '' ? undefined : `last output:\n${output.split('\n').slice(-5).join('\n')}`,
        });
      }
      return 'exited';
    }
    await this.runc.runDetached(name, bundle, { logFile, pidFile: path.join(bundle, 'container.pid') });
    await sleep(this.settleMs);
    const state = await this.runc.state(name);
    if (state?.status !== 'running') {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new SyscontainerError('ERUNTIME', `container ${name} did not stay running (runc: ${state?.status ?? 'gone'})`, {
        hint: log.trim() === '' ? undefined : `last output:\n${log.trim().split('\n').slice(-5).join('\n')}`,
      });
    }
    return 'running';
  }

  stop(name: string): Promise<void> {
    return killAndDelete(this.runc, name);
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

  async status(name: string): Promise<SupervisedState> {
    const state = await this.runc.state(name);
    return { state: state?.status ?? 'stopped', pid: state?.pid, enabled: undefined, details: undefined };
  }

  states(names: readonly string[]): Promise<Map<string, string>> {
    return runcStates(this.runc, names);
  }

  async logs(_name: string, bundle: string, options: { lines?: number }): Promise<string> {
    return lastLines(await readFile(path.join(bundle, containerLogName), 'utf8').catch(() => ''), options.lines);
  }

  async followLogs(_name: string, bundle: string, options: { lines?: number; write: (chunk: string) => void; signal: AbortSignal }): Promise<void> {
    const file = path.join(bundle, containerLogName);
    let text = await readFile(file, 'utf8').catch(() => '');
    const initial = lastLines(text, options.lines);
    if (initial !== '') options.write(initial);
    let offset = Buffer.byteLength(text);
    while (!options.signal.aborted) {
      await sleep(500, undefined, { signal: options.signal }).catch(() => undefined);
      text = await readFile(file, 'utf8').catch(() => '');
      const bytes = Buffer.from(text);
      if (bytes.length > offset) options.write(bytes.subarray(offset).toString('utf8'));
      offset = bytes.length; // also after the file was truncated
    }
  }
}
