// The durable record of a container's runs, written by whoever watches the container run:
// under systemd its own unit (templates/service.ejs), without systemd its monitor
// (supervisor/container-monitor.ts). DESTDIR/started is touched at the start (ExecStartPre; its
// mtime is the start time) and DESTDIR/exit-status is written when it ended (ExecStopPost, from
// systemd's SERVICE_RESULT, EXIT_CODE and EXIT_STATUS; its mtime is the finish time), through a
// temporary name, before the unit counts as stopped. Every exit is also appended to DESTDIR/exits
// (`NANOSECONDS RESULT HOW STATUS`, a line per exit, the last 100 kept), which the next start
// does not clear: a restart by systemd a second later leaves the earlier exit there for whoever
// tells of exits (the REST service's die events). Reading never changes either; a restart of
// whoever reads loses nothing.
import { readFileSync, statSync, watch, type Stats } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { SyscontainerError } from '../common/errors.js';
import { pathExists } from '../common/path-exists.js';

export const startedFile = 'started';
export const exitStatusFile = 'exit-status';
/** Where `runc run --pid-file` writes the container's pid once it runs (runtimeDirectives, Runc.runCommand). */
export const runcPidFile = 'container.pid';
export const exitLogFile = 'exits';

/**
 * The shell that appends an exit to DIR/exits (the unit's ExecStopPost and the monitor run it;
 * `status` is shell text: "$code", "$${EXIT_STATUS}"…), keeping the last 100 lines once it holds 200.
 */
export function appendExitShell(dir: string, result: string, how: string, status: string): string {
  const log = `${dir}/${exitLogFile}`;
  return `echo "$(date +%s%N) ${result} ${how} ${status}" >> "${log}"; [ "$(wc -l < "${log}")" -le 200 ] || { tail -n 100 "${log}" > "${log}.tmp" && mv -f "${log}.tmp" "${log}"; }`;
}

export interface ContainerExit {
  /** systemd's SERVICE_RESULT: success, exit-code, signal, timeout, … */
  result: string;
  /** The process's exit code (a signal's death is 128 + its number, as runc reports it). */
  exitCode: number;
  finishedAt: Date;
}

export interface RunRecord {
  startedAt: Date | undefined;
  exit: ContainerExit | undefined;
}

const signalNumbers: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };

export function parseExitStatus(text: string, finishedAt: Date): ContainerExit | undefined {
  const [result, how, status] = text.trim().split(/\s+/);
  if (result === undefined || how === undefined || status === undefined) return undefined;
  let exitCode: number;
  if (how === 'exited' && /^\d+$/.test(status)) exitCode = Number(status);
  else if (how === 'killed' || how === 'dumped') exitCode = 128 + (signalNumbers[status.replace(/^SIG/, '')] ?? 0);
  else exitCode = /^\d+$/.test(status) ? Number(status) : 255;
  return { result, exitCode, finishedAt };
}

/**
 * What the unit's ExecStartPre does: the last run's exit and pid file forgotten (and runc's
 * temporary name of it, which runc creates exclusively), this start's time marked.
 */
export async function markStarted(dir: string): Promise<void> {
  await rm(path.join(dir, exitStatusFile), { force: true });
  await forgetPidFile(dir);
  await writeFile(path.join(dir, startedFile), '');
}

/** An earlier run's pid file (and runc's temporary name of it) removed: it would say the next run runs before it does. */
export async function forgetPidFile(dir: string): Promise<void> {
  for (const file of [runcPidFile, `.${runcPidFile}`]) await rm(path.join(dir, file), { force: true });
}

/**
 * Records an exit as the unit's ExecStopPost does: `RESULT HOW STATUS` (success exited 0,
 * exit-code exited 3, signal killed TERM, …), atomically.
 */
export async function recordExit(dir: string, exit: { result: string; how: string; status: string | number }): Promise<void> {
  await writeFileAtomic(path.join(dir, exitStatusFile), `${exit.result} ${exit.how} ${exit.status}\n`);
  await appendFile(path.join(dir, exitLogFile), `${BigInt(Date.now()) * 1_000_000n} ${exit.result} ${exit.how} ${exit.status}\n`);
}

/**
 * Every exit recorded in deployment directory `dir`, oldest first (the last 100): DIR/exits,
 * or, for a unit written before that log, the last exit alone (DIR/exit-status). Read-only.
 */
export async function readExitLog(dir: string): Promise<ContainerExit[]> {
  const text = await readFile(path.join(dir, exitLogFile), 'utf8').catch(() => undefined);
  if (text === undefined) {
    const last = (await readRunRecord(dir)).exit;
    return last === undefined ? [] : [last];
  }
  const exits: ContainerExit[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d{1,20}) (.+)$/.exec(line);
    if (match === null) continue; // half a line: the writer was killed mid-way
    // Whole milliseconds, as the other records' times are.
    const exit = parseExitStatus(match[2] as string, new Date(Number(BigInt(match[1] as string) / 1_000_000n)));
    if (exit !== undefined) exits.push(exit);
  }
  return exits;
}

function statIfThere(file: string): Stats | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * The run record in deployment directory `dir`. Read synchronously: two stats and a read of a
 * few bytes, cheaper than their asynchronous round trips, and a listing reads one per container.
 */
export async function readRunRecord(dir: string): Promise<RunRecord> {
  const started = statIfThere(path.join(dir, startedFile));
  const file = path.join(dir, exitStatusFile);
  const info = statIfThere(file);
  let text: string | undefined;
  try {
    text = info === undefined ? undefined : readFileSync(file, 'utf8');
  } catch {
    // removed since (a start cleared it)
  }
  return {
    startedAt: started?.mtime,
    exit: text === undefined || info === undefined ? undefined : parseExitStatus(text, info.mtime),
  };
}

/**
 * Resolves with the first exit recorded in `dir` that `accept` takes, watching the directory
 * (and polling every `pollMs` besides, in case a watch misses a rename). Rejects when `signal`
 * aborts, and with ENOTFOUND when `dir` goes (the container was uninstalled). `read` reads the
 * record (readRunRecord by default; a caller may repair a lost exit there).
 */
export function waitForExit(
  dir: string,
  accept: (record: RunRecord) => boolean,
  signal: AbortSignal,
  pollMs = 1000,
  read: () => Promise<RunRecord> = () => readRunRecord(dir),
): Promise<RunRecord> {
  return watchDirectory(
    dir,
    async () => {
      const record = await read();
      return accept(record) ? record : undefined;
    },
    signal,
    pollMs,
  );
}

/**
 * Resolves once the run that started last runs or has ended: runc's pid file DIR/container.pid
 * (`runc run --pid-file` writes it, by a rename, once the container's process has been
 * exec'd: runc's own meaning of "running") or DIR/exit-status is there, both removed at the
 * start (markStarted, the unit's ExecStartPre). Woken by the directory's changes, not a
 * timer; false when neither came within `ms`.
 */
export async function waitForStart(dir: string, ms: number): Promise<boolean> {
  const timeout = AbortSignal.timeout(ms);
  const there = (file: string) => pathExists(path.join(dir, file));
  return watchDirectory(dir, async () => ((await there(runcPidFile)) || (await there(exitStatusFile)) ? true : undefined), timeout, ms).catch((error: unknown) => {
    if (timeout.aborted) return false;
    throw error;
  });
}

/**
 * Resolves with the first answer of `probe` that is not undefined, asking it at once, on
 * every change in `dir` and every `pollMs`. Rejects when `signal` aborts, and with ENOTFOUND
 * when `dir` goes.
 */
function watchDirectory<T>(dir: string, probe: () => Promise<T | undefined>, signal: AbortSignal, pollMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    const watcher = (() => {
      try {
        return watch(dir, { persistent: false }, () => void check());
      } catch {
        return undefined;
      }
    })();
    const timer = setInterval(() => void check(), pollMs);
    const finish = (error: unknown, answer?: T) => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      if (answer !== undefined) resolve(answer);
      else reject(error);
    };
    const onAbort = () => finish(signal.reason ?? new Error('aborted'));
    async function check(): Promise<void> {
      if (done) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const answer = await probe();
          if (answer !== undefined) return finish(undefined, answer);
          // Uninstalled while waited on: nothing will be recorded there any more.
          if (!(await pathExists(dir))) return finish(new SyscontainerError('ENOTFOUND', `deployment ${dir} is gone`));
        } while (again && !done);
      } catch (error) {
        finish(error);
      } finally {
        checking = false;
      }
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void check();
  });
}
