// The one wrapper of systemd's command line tools: systemctl, journalctl, systemd-analyze and
// systemd-tmpfiles. With a command prefix (nsenter into the test harness: command-prefix.ts)
// the same code drives a systemd running in a private namespace. systemd-analyze verify runs without the prefix: it needs no manager.
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { capture } from '../common/captured-command.js';
import { SyscontainerError } from '../common/errors.js';
import { withPrefix } from './command-prefix.js';

export interface SystemdOptions {
  /** Run systemctl/journalctl/systemd-tmpfiles through this prefix; default none. */
  prefix?: readonly string[];
}

export interface UnitState {
  activeState: string;
  subState: string;
  mainPid: number;
  nRestarts: number;
  loadState: string;
  /** How the last run ended: success, exit-code, signal, … */
  result: string;
  /** The main process' exit status of the last run. */
  execMainStatus: number;
  /** PIDFile= of the unit: runc detached, the container's pid read from it; '' when runc is the main process. */
  pidFile: string;
}

const unitStateProperties = 'ActiveState,SubState,MainPID,NRestarts,LoadState,Result,ExecMainStatus,PIDFile';

/** `KEY=VALUE` lines (systemctl show) as a record. */
function propertiesOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function unitStateOf(props: Record<string, string>): UnitState {
  return {
    activeState: props.ActiveState ?? 'unknown',
    subState: props.SubState ?? 'unknown',
    mainPid: Number(props.MainPID ?? 0) || 0,
    nRestarts: Number(props.NRestarts ?? 0) || 0,
    loadState: props.LoadState ?? 'unknown',
    result: props.Result ?? 'unknown',
    execMainStatus: Number(props.ExecMainStatus ?? -1),
    pidFile: props.PIDFile ?? '',
  };
}

async function isDirectory(file: string): Promise<boolean> {
  return stat(file).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

function firstLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(0, count).join(' / ').slice(0, 500);
}

/**
 * Which of the units just written (`written`) or removed (`removed`) this manager holds another
 * version of, from `systemctl show -p Id,LoadState,NeedDaemonReload` of them all (one block per
 * unit, in order). Asking loads a unit it never loaded, from the file as it is now, so that one
 * needs nothing. A written unit needs a reload when systemd has an older version loaded
 * (NeedDaemonReload=yes) or answers not-found although the file is there (systemd before 246
 * keeps not-found until a reload; 252 looks again when the unit directory changed); a removed
 * one when an old version is still loaded. A unit the answer does not name counts as stale. Pure.
 */
export function unitsToReload(showOutput: string, written: readonly string[], removed: readonly string[]): string[] {
  const asked = [...written, ...removed];
  const answers = new Map<string, Record<string, string>>();
  showOutput
    .split(/\n\s*\n/)
    .filter((block) => block.includes('='))
    .forEach((block, index) => {
      const props = propertiesOf(block);
      const unit = props.Id !== undefined && asked.includes(props.Id) ? props.Id : asked[index];
      if (unit !== undefined) answers.set(unit, props);
    });
  const stale = (unit: string, isWritten: boolean) => {
    const props = answers.get(unit);
    if (props === undefined || props.NeedDaemonReload === 'yes') return true;
    return isWritten && props.LoadState !== 'loaded';
  };
  return [...written.filter((unit) => stale(unit, true)), ...removed.filter((unit) => !written.includes(unit) && stale(unit, false))];
}

export interface JournalEntry {
  /** Microseconds since the epoch. */
  timeUsec: number;
  message: string;
  /** The stream it was written to: stderr is what the journal has at PRIORITY err or above. */
  stream: 'stdout' | 'stderr';
}

export class Systemd {
  private readonly prefix: readonly string[];

  constructor(options: SystemdOptions = {}) {
    this.prefix = options.prefix ?? [];
  }

  private async tool(file: string, args: readonly string[], what: string, usePrefix = true): Promise<string> {
    const [cmd, argv] = withPrefix(usePrefix ? this.prefix : [], file, args);
    const result = await capture(cmd, argv);
    if (result.failed) {
      const detail = firstLines(String(result.stderr ?? '')) || result.shortMessage || 'failed';
      throw new SyscontainerError('ERUNTIME', `${what}: ${detail}`, { cause: result });
    }
    return String(result.stdout ?? '');
  }

  private systemctl(args: readonly string[], what: string): Promise<string> {
    return this.tool('systemctl', ['--no-pager', ...args], what);
  }

  /**
   * Whether a systemd manager runs and can be talked to. `offline` (systemd not PID 1, as in
   * containers and CI) and a failure to connect mean no; degraded, starting, … mean yes.
   */
  async isRunning(): Promise<boolean> {
    // sd_booted(3): systemd runs as the init system exactly when /run/systemd/system/ exists.
    // Without it there is no manager to ask, and no process is started to find that out
    // (status and list on a host without systemd save one). Through a prefix the manager is
    // in another namespace: ask it.
    if (this.prefix.length === 0 && !(await isDirectory('/run/systemd/system'))) return false;
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['is-system-running']);
    const result = await capture(cmd, argv);
    const answer = String(result.stdout ?? '').trim();
    return answer !== '' && answer !== 'offline' && answer !== 'unknown';
  }

  async daemonReload(): Promise<void> {
    await this.systemctl(['daemon-reload'], 'systemctl daemon-reload');
  }

  /**
   * The units of `written` and `removed` (unitsToReload) systemd holds another version of: one
   * `systemctl show` for all, none when both are empty. When systemctl fails, all of them.
   */
  async unitsNeedingReload(written: readonly string[], removed: readonly string[]): Promise<string[]> {
    if (written.length === 0 && removed.length === 0) return [];
    const all = [...written, ...removed];
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['--no-pager', 'show', '--property=Id,LoadState,NeedDaemonReload', '--', ...all]);
    const result = await capture(cmd, argv);
    if (result.failed) return all;
    return unitsToReload(String(result.stdout ?? ''), written, removed);
  }

  /**
   * Makes the unit start at boot. Without the reload `systemctl enable` does by itself: its
   * [Install] links are read at boot, and the unit file is loaded by whoever wrote it
   * (Supervisor.reload). The manager's UnitFileState then stays as it was until a reload: ask
   * isEnabled.
   */
  async enable(unit: string): Promise<void> {
    await this.systemctl(['enable', '--no-reload', unit], `systemctl enable ${unit}`);
  }

  /** As enable, undone. Idempotent: disabling a unit that is not enabled (or does not exist any more) is fine. */
  async disable(unit: string): Promise<void> {
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['--no-pager', 'disable', '--no-reload', unit]);
    await capture(cmd, argv);
  }

  /** Whether the unit is enabled, read from the unit directory (`systemctl is-enabled`), not the manager's cached UnitFileState. */
  async isEnabled(unit: string): Promise<boolean> {
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['is-enabled', unit]);
    return String((await capture(cmd, argv)).stdout ?? '').trim() === 'enabled';
  }

  async start(unit: string): Promise<void> {
    await this.systemctl(['start', unit], `systemctl start ${unit}`);
  }

  /** Idempotent: stopping a stopped or unknown unit is fine. */
  async stop(unit: string): Promise<void> {
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['--no-pager', 'stop', unit]);
    const result = await capture(cmd, argv);
    if (result.failed && !/not loaded|does not exist|not found/i.test(String(result.stderr))) {
      throw new SyscontainerError('ERUNTIME', `systemctl stop ${unit}: ${firstLines(String(result.stderr))}`, { cause: result });
    }
  }

  async restart(unit: string): Promise<void> {
    await this.systemctl(['restart', unit], `systemctl restart ${unit}`);
  }

  /** Clears a failed state so the unit can start again and disappears when removed. Idempotent. */
  async resetFailed(unit: string): Promise<void> {
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['reset-failed', unit]);
    await capture(cmd, argv);
  }

  /** The few properties syscontainer acts on. */
  async unitState(unit: string): Promise<UnitState> {
    const out = await this.systemctl(['show', unit, `--property=${unitStateProperties}`], `systemctl show ${unit}`);
    return unitStateOf(propertiesOf(out));
  }

  /**
   * The state of many units from one `systemctl show` per 100 units (it prints one block per
   * unit, in order, blank-line separated), not one process per unit: a listing of 300
   * containers would otherwise start 300 systemctl processes. Unknown units come back with
   * loadState `not-found`, as from unitState.
   */
  async unitStates(units: readonly string[]): Promise<Map<string, UnitState>> {
    const states = new Map<string, UnitState>();
    for (let start = 0; start < units.length; start += 100) {
      const chunk = units.slice(start, start + 100);
      const out = await this.systemctl(['show', `--property=Id,${unitStateProperties}`, '--', ...chunk], `systemctl show ${chunk.join(' ')}`.slice(0, 200));
      const blocks = out.split(/\n\s*\n/).filter((block) => block.includes('='));
      blocks.forEach((block, index) => {
        const props = propertiesOf(block);
        const unit = props.Id !== undefined && chunk.includes(props.Id) ? props.Id : chunk[index];
        if (unit !== undefined) states.set(unit, unitStateOf(props));
      });
    }
    return states;
  }

  /** `systemctl status` text (the exit code says the state, not a failure, so it is ignored). */
  async statusText(unit: string): Promise<string> {
    const [cmd, argv] = withPrefix(this.prefix, 'systemctl', ['--no-pager', '--full', 'status', unit]);
    const result = await capture(cmd, argv);
    return String(result.stdout ?? '');
  }

  /**
   * Checks a unit file with `systemd-analyze verify` (run on the host, not in any namespace).
   * What it reports for this unit is split as systemd itself treats it: lines that end in
   * "ignoring" (an unknown key, a value systemd cannot parse, such as Atomic images'
   * `Restart=on-crash`) are warnings, systemd loads the unit without them; anything else
   * reported when verify fails is an error. Both empty when fine or when the tool is missing.
   * `unitPath`: directories searched before the default ones for the units this one names
   * (its health timer beside it, the containers it Requires= in the unit directory).
   */
  async verify(unitFile: string, options: { unitPath?: readonly string[] } = {}): Promise<{ errors: string[]; warnings: string[] }> {
    // A trailing ':' keeps the default search path after ours.
    const env = options.unitPath === undefined ? undefined : { SYSTEMD_UNIT_PATH: `${options.unitPath.join(':')}:` };
    const result = await capture('systemd-analyze', ['verify', '--man=no', unitFile], env ? { env } : {});
    if ((result as { code?: string }).code === 'ENOENT') return { errors: [], warnings: [] };
    const base = unitFile.slice(unitFile.lastIndexOf('/') + 1);
    const lines = String(result.stderr ?? '')
      .split('\n')
      .map((l) => l.trim())
      // verify also loads and reports on other units (dependencies, the host's units): keep ours.
      .filter((l) => l !== '' && (l.includes(unitFile) || l.startsWith(`${base}:`)))
      // A unit it depends on (a pod's, another container's) is not loaded where verify runs.
      .filter((l) => !/: Failed to create .*\/start: Unit \S+ not found\.?$/.test(l));
    const isWarning = (line: string) => /,? ignoring[.:]?(?: |$)/i.test(line);
    const warnings = lines.filter(isWarning);
    const errors = result.exitCode === 0 ? [] : lines.filter((l) => !isWarning(l));
    if (result.exitCode !== 0 && errors.length === 0 && result.exitCode !== undefined) {
      const other = firstLines(String(result.stderr ?? '').split('\n').filter((l) => !/Failed to create .*\/start: Unit \S+ not found/.test(l)).join('\n'), 2);
      if (/Failed to|Invalid|Unknown/i.test(other) && other.includes(base)) errors.push(other);
    }
    return { errors, warnings };
  }

  /** `systemd-tmpfiles --create FILE` (creates what the file declares). */
  async tmpfilesCreate(file: string): Promise<void> {
    await this.tool('systemd-tmpfiles', ['--create', file], `systemd-tmpfiles --create ${file}`);
  }

  /** `systemd-tmpfiles --remove FILE`: removes only what the file marks for removal (r, R, D). */
  async tmpfilesRemove(file: string): Promise<void> {
    await this.tool('systemd-tmpfiles', ['--remove', file], `systemd-tmpfiles --remove ${file}`);
  }

  /** The unit's journal as text (last `lines` lines). */
  async journal(unit: string, options: { lines?: number } = {}): Promise<string> {
    const args = ['--no-pager', '-u', unit, '-o', 'cat'];
    if (options.lines !== undefined) args.push('-n', String(options.lines));
    return this.tool('journalctl', args, `journalctl -u ${unit}`);
  }

  /**
   * What the unit's processes wrote to stdout/stderr (not systemd's own lines about the unit),
   * each line with its time: the last `lines`, those since `sinceMs`, or those after `cursor`.
   * Our units give stderr a journal stream of its own at PRIORITY=3 (templates/service.ejs):
   * a line at err or above is stderr's; the rest (and every line of a unit that writes both
   * to one stream, as an image's own template may) stdout's.
   */
  async outputEntries(unit: string, options: { lines?: number; sinceMs?: number; untilMs?: number; cursor?: string } = {}): Promise<{ entries: JournalEntry[]; cursor: string | undefined }> {
    const args = ['--no-pager', `_SYSTEMD_UNIT=${unit}`, '_TRANSPORT=stdout', '-o', 'json', '--output-fields=MESSAGE,PRIORITY'];
    if (options.cursor !== undefined) args.push(`--after-cursor=${options.cursor}`);
    if (options.sinceMs !== undefined) args.push(`--since=@${(options.sinceMs / 1000).toFixed(6)}`);
    if (options.untilMs !== undefined) args.push(`--until=@${(options.untilMs / 1000).toFixed(6)}`);
    if (options.lines !== undefined) args.push('-n', String(options.lines));
    const out = await this.tool('journalctl', args, `journalctl -u ${unit}`);
    const entries: JournalEntry[] = [];
    let cursor = options.cursor;
    for (const line of out.split('\n')) {
      if (line.trim() === '' || !line.startsWith('{')) continue;
      let record: { MESSAGE?: unknown; PRIORITY?: unknown; __REALTIME_TIMESTAMP?: unknown; __CURSOR?: unknown };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        continue;
      }
      if (typeof record.__CURSOR === 'string') cursor = record.__CURSOR;
      // Binary messages come as arrays of bytes.
      const message = typeof record.MESSAGE === 'string' ? record.MESSAGE : Array.isArray(record.MESSAGE) ? Buffer.from(record.MESSAGE as number[]).toString('utf8') : '';
      const priority = typeof record.PRIORITY === 'string' ? Number(record.PRIORITY) : 6;
      entries.push({ timeUsec: Number(record.__REALTIME_TIMESTAMP ?? 0), message, stream: priority <= 3 ? 'stderr' : 'stdout' });
    }
    return { entries, cursor };
  }

  /**
   * Follows the unit's journal, handing output to `write`, until `signal` aborts (then
   * resolves). Polls with cursors rather than keeping `journalctl -f` running: a long-lived
   * child behind nsenter does not die with its parent.
   */
  async followJournal(unit: string, options: { lines?: number; write: (chunk: string) => void; signal: AbortSignal }): Promise<void> {
    const { write, signal } = options;
    let cursor: string | undefined;
    let first = true;
    while (!signal.aborted) {
      const args = ['--no-pager', '-u', unit, '-o', 'cat', '--show-cursor'];
      if (cursor !== undefined) args.push(`--after-cursor=${cursor}`);
      else if (options.lines !== undefined) args.push('-n', String(options.lines));
      else args.push('-n', 'all');
      const out = await this.tool('journalctl', args, `journalctl -u ${unit}`);
      const match = /(?:^|\n)-- cursor: (\S+)\s*$/.exec(out);
      if (match?.[1] !== undefined) {
        cursor = match[1];
        const text = out.slice(0, match.index).replace(/^\n/, '');
        if (text !== '') write(`${text}\n`);
      } else if (first && out.trim() !== '' && !out.startsWith('-- No entries --')) {
        write(out.endsWith('\n') ? out : `${out}\n`);
      }
      first = false;
      await sleep(500, undefined, { signal }).catch(() => undefined);
    }
  }
}
