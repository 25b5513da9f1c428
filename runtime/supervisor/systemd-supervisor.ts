// The systemd supervisor: the container is the unit NAME.service, whose main process is
// `runc run NAME` (Delegate=yes, the container's cgroup a child of the unit's), so systemd
// starts it at boot, restarts it by the unit's policy, stops every process of it, and keeps
// its output in the journal.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathExists } from '../../common/path-exists.js';
import { SyscontainerError } from '../../common/errors.js';
import type { Runc } from '../runc.js';
import type { JournalEntry, Systemd, UnitState } from '../systemd.js';
import { unitName } from '../unit-files.js';
import { killAndDelete, runcStates } from './runc-supervisor.js';
import type { LaunchOutcome, OutputEntriesQuery, StartOutcome, SupervisedState, Supervisor, UnitChanges } from './supervisor.js';
import { removeUnitCgroups } from './unit-cgroups.js';
import { isOneshotBundle } from '../oneshot.js';
import { podUnitName } from '../container-spec.js';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { healthServiceName, healthTimerName } from '../health/health-units.js';
import { forgetPidFile, runcPidFile, waitForStart } from '../exit-status.js';

export class SystemdSupervisor implements Supervisor {
  readonly kind = 'systemd';
  readonly schedulesHealthChecks = true;

  constructor(
    private readonly systemd: Systemd,
    /** The runc the unit runs (the same state root), to see the container itself. */
    private readonly runc: Runc,
    private readonly settleMs: number,
  ) {}

  async isRunning(name: string): Promise<boolean> {
    const state = await this.systemd.unitState(unitName(name));
    return state.activeState === 'active' || state.activeState === 'activating' || state.activeState === 'reloading';
  }

  async start(name: string, bundle: string): Promise<StartOutcome> {
    if (await isOneshotBundle(bundle)) return this.runOnce(name, false);
    return this.startUnit(name, false);
  }

  async launch(name: string, bundle: string): Promise<LaunchOutcome> {
    if (await this.isRunning(name)) return 'running';
    const unit = unitName(name);
    await this.systemd.resetFailed(unit);
    // A pid file of an earlier run would say it runs before it does (our ExecStartPre removes
    // it too; an image's own unit that runs $EXEC_START does not).
    await forgetPidFile(bundle);
    await this.systemd.start(unit);
    // systemctl returns once runc is forked. Our units' runc writes DESTDIR/container.pid when
    // the container's process runs, and the unit records an exit in DESTDIR/exit-status: woken
    // by either. An image's own unit may run runc otherwise: runc's state is asked then.
    const unitText = await readFile(path.join(bundle, unit), 'utf8').catch(() => '');
    if (unitText.includes(`--pid-file ${path.join(bundle, runcPidFile)} `)) {
      await waitForStart(bundle, 5000);
      return 'started';
    }
    for (let i = 0; i < 50; i++) {
      if ((await this.runc.state(name))?.status === 'running' || (await pathExists(path.join(bundle, 'exit-status')))) break;
      await sleep(100);
    }
    return 'started';
  }

  async kill(name: string, signal: string): Promise<void> {
    await this.runc.kill(name, signal);
  }

  async stop(name: string): Promise<void> {
    await this.systemd.stop(unitName(name));
    await killAndDelete(this.runc, name);
  }

  async restart(name: string, bundle: string): Promise<StartOutcome> {
    if (await isOneshotBundle(bundle)) return this.runOnce(name, true);
    return this.startUnit(name, true);
  }

  /** A oneshot unit: systemctl waits for it to finish; done when it exited with success and stays active. */
  private async runOnce(name: string, restart: boolean): Promise<StartOutcome> {
    const unit = unitName(name);
    await this.systemd.resetFailed(unit);
    try {
      if (restart) await this.systemd.restart(unit);
      else await this.systemd.start(unit);
    } catch (error) {
      const journal = await this.systemd.journal(unit, { lines: 5 }).catch(() => '');
      throw new SyscontainerError('ERUNTIME', `container ${name} (run once) did not complete: ${(error as Error).message}`, {
        hint: journal.trim() === '' ? `see journalctl -u ${unit}` : `last log lines:\n${journal.trim()}`,
      });
    }
    const after = await this.systemd.unitState(unit);
    if (after.activeState !== 'active') throw new SyscontainerError('ERUNTIME', `container ${name} (run once) did not complete (unit ${after.activeState}/${after.subState})`);
    return 'exited';
  }

  async reload(changes: UnitChanges): Promise<void> {
    if ((await this.systemd.unitsNeedingReload(changes.written, changes.removed)).length > 0) await this.systemd.daemonReload();
  }

  async startHostUnit(unit: string): Promise<boolean> {
    await this.systemd.daemonReload();
    await this.systemd.enable(unit);
    await this.systemd.start(unit);
    return true;
  }

  async enable(name: string): Promise<boolean> {
    await this.systemd.enable(unitName(name));
    return true;
  }

  disable(name: string): Promise<void> {
    return this.systemd.disable(unitName(name));
  }

  async forget(name: string): Promise<void> {
    const units = [unitName(name), healthTimerName(name), healthServiceName(name)];
    // A failed unit (a failed check's oneshot too) stays loaded until reset: nothing of it may
    // stay. Reset first: systemd then drops a stopped unit nothing refers to, and only one still
    // loaded (an enabled unit the boot pulled in) needs the reload.
    for (const unit of units) await this.systemd.resetFailed(unit);
    await this.reload({ written: [], removed: units });
    // systemd removes the unit's cgroup where it manages the hierarchy; the `container` child
    // runc made (and on cgroup v1 the hierarchies systemd does not manage) stay otherwise.
    await removeUnitCgroups(name);
  }

  async ensurePodNetwork(pod: string, unit: { file: string; text: string }): Promise<void> {
    if ((await readFile(unit.file, 'utf8').catch(() => undefined)) !== unit.text) {
      await mkdir(path.dirname(unit.file), { recursive: true });
      await writeFileAtomic(unit.file, unit.text);
      await this.reload({ written: [podUnitName(pod)], removed: [] });
    }
    await this.systemd.enable(podUnitName(pod));
    await this.systemd.start(podUnitName(pod));
  }

  async removePodNetwork(pod: string, unitFile: string): Promise<void> {
    const unit = podUnitName(pod);
    await this.systemd.stop(unit).catch(() => undefined);
    await this.systemd.disable(unit).catch(() => undefined);
    await rm(unitFile, { force: true });
    await this.systemd.resetFailed(unit).catch(() => undefined);
    await this.reload({ written: [], removed: [unit] });
  }

  async status(name: string, _bundle: string): Promise<SupervisedState> {
    const unit = await this.systemd.unitState(unitName(name));
    return {
      state: unit.activeState === 'active' ? unit.subState : unit.activeState,
      pid: (await this.runc.state(name))?.pid,
      // From the unit directory: the manager's UnitFileState is from before an enable without reload.
      enabled: await this.systemd.isEnabled(unitName(name)),
      details: await this.systemd.statusText(unitName(name)),
      restarts: unit.nRestarts,
    };
  }

  async states(containers: readonly { name: string; bundle: string }[]): Promise<Map<string, string>> {
    const names = containers.map((c) => c.name);
    // systemd knows every unit (one not loaded is inactive): runc is asked only for those it
    // did not answer, when `systemctl show` failed, so a listing starts one process, not two.
    const units = await this.systemd.unitStates(names.map(unitName)).catch(() => new Map<string, UnitState>());
    const states = new Map<string, string>();
    for (const name of names) {
      const unit = units.get(unitName(name));
      if (unit !== undefined) states.set(name, unit.activeState === 'active' ? unit.subState : unit.activeState);
    }
    const unanswered = names.filter((name) => !states.has(name));
    if (unanswered.length > 0) for (const [name, state] of await runcStates(this.runc, unanswered)) states.set(name, state);
    return new Map(names.map((name) => [name, states.get(name)!]));
  }

  logs(name: string, _bundle: string, options: { lines?: number }): Promise<string> {
    return this.systemd.journal(unitName(name), { lines: options.lines });
  }

  followLogs(name: string, _bundle: string, options: { lines?: number; write: (chunk: string) => void; signal: AbortSignal }): Promise<void> {
    return this.systemd.followJournal(unitName(name), options);
  }

  outputEntries(name: string, _bundle: string, query: OutputEntriesQuery): Promise<{ entries: JournalEntry[]; cursor: string | undefined }> {
    return this.systemd.outputEntries(unitName(name), query);
  }

  /** systemctl start (or restart), then the settle time; the unit must be running, not restarted meanwhile, and runc must run the container. */
  private async startUnit(name: string, restart: boolean): Promise<StartOutcome> {
    const unit = unitName(name);
    await this.systemd.resetFailed(unit);
    const before = await this.systemd.unitState(unit);
    if (restart) await this.systemd.restart(unit);
    else await this.systemd.start(unit);
    await sleep(this.settleMs);
    const after = await this.systemd.unitState(unit);
    const running = (await this.runc.state(name))?.status === 'running';
    // Ended with status 0, not restarted, and runc was the main process: its status is the
    // container's. (A detached runc exits 0 whatever the container does next: no verdict there.)
    const exited = after.activeState === 'inactive' && after.result === 'success' && after.execMainStatus === 0 && after.nRestarts === before.nRestarts && after.pidFile === '';
    if (exited) {
      await killAndDelete(this.runc, name);
      return 'exited';
    }
    if (after.activeState !== 'active' || after.subState !== 'running' || after.nRestarts > before.nRestarts || !running) {
      const journal = await this.systemd.journal(unit, { lines: 5 }).catch(() => '');
      throw new SyscontainerError('ERUNTIME', `container ${name} did not stay running (unit ${after.activeState}/${after.subState})`, {
        hint: journal.trim() === '' ? `see journalctl -u ${unit}` : `last log lines:\n${journal.trim()}`,
      });
    }
    return 'running';
  }
}
