// What conmon is to podman, for the runc-direct supervisor: one small process per container,
// in a session of its own (it outlives the command that started it, and a terminal's signals
// do not reach it), that runs `runc run NAME` in the foreground with the output appended to
// DIR/container.log (each line stamped with its time and stream: container-log.ts) and, when
// the container exits, records the exit in DIR/exit-status
// exactly as the unit's ExecStopPost does under systemd: `RESULT exited CODE`, written to a
// temporary name and renamed (runc's exit code is the container's, 128 + N for signal N), and
// appended to DIR/exits with its time.
//
// It is /bin/sh, as ExecStopPost is: about 1 MB per container and no Node start-up per start.
// TERM, INT, HUP and QUIT to the monitor are caught and ignored, so only a KILL loses its
// record; the container keeps running then (its runc is not the monitor), and whoever next
// finds the monitor gone and no record for the run (status, start, stop: see lostExit) writes
// `unknown exited 255`. The monitor writes its pid to DIR/monitor.pid; it counts as alive only
// while that process is a monitor of DIR (its command line says so), so a reused pid is not it.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError } from '../../common/errors.js';
import { appendExitShell, markStarted, readRunRecord, recordExit } from '../exit-status.js';
import { containerLogName, tagShell } from './container-log.js';

export { containerLogName };

const pidFileName = 'monitor.pid';
/** The monitor's $0: what names it in ps, and in its /proc command line. */
const marker = 'syscontainer-monitor';
/** How long after a start a missing pid file may still be a monitor on its way. */
const startGraceMs = 2000;

// $1 the deployment directory, then the runc command line. Its output is the log already:
// runc's stdout and stderr go each through a tagger into it (container-log.ts), and runc's
// status comes out on fd 4; the taggers have written the last lines when it is read.
const tag = (stream: string) => `bash -c '${tagShell}' tag ${stream} 3>&- 4>&- >&5`;
const script = `dir=$1; shift
trap : HUP INT TERM QUIT
echo $$ > "$dir/.monitor.pid.tmp" && mv -f "$dir/.monitor.pid.tmp" "$dir/${pidFileName}"
exec 5>&1
code=$( { { { "$@" </dev/null 2>&1 >&3 3>&- 4>&- 5>&-; echo $? >&4; } | ${tag('stderr')}; } 3>&1 | ${tag('stdout')}; } 4>&1 )
exec 5>&-
if [ "$code" -eq 0 ]; then result=success; else result=exit-code; fi
echo "$result exited $code" > "$dir/.exit-status.tmp" && mv -f "$dir/.exit-status.tmp" "$dir/exit-status"
${appendExitShell('$dir', '$result', 'exited', '$code')}
rm -f "$dir/${pidFileName}"`;

/**
 * Marks the start (markStarted: the last exit forgotten) and spawns the monitor of the
 * container whose bundle is `dir`, running `command` (Runc.runCommand). Resolves once the
 * monitor process exists; it then runs on its own.
 */
export async function spawnMonitor(dir: string, command: [string, string[]]): Promise<void> {
  await markStarted(dir);
  const log = openSync(path.join(dir, containerLogName), 'a', 0o640);
  try {
    const [file, argv] = command;
    const child = spawn('/bin/sh', ['-c', script, marker, dir, file, ...argv], { detached: true, stdio: ['ignore', log, log] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
  } catch (error) {
    throw new SyscontainerError('ERUNTIME', `cannot start the monitor of ${dir}: ${(error as Error).message}`, { cause: error });
  } finally {
    closeSync(log);
  }
}

/** The pid of the live monitor of `dir`, or undefined when none runs (a zombie counts as gone). */
export async function monitorPid(dir: string): Promise<number | undefined> {
  const pid = Number((await readFile(path.join(dir, pidFileName), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')]);
  const args = cmdline.split('\0');
  if (args[3] !== marker || args[4] !== dir) return undefined;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === '' || state === 'Z' || state === 'X' ? undefined : pid;
}

/** Waits up to `ms` for the monitor of `dir` to end (it has then written the record); true when it did. */
export async function monitorEnded(dir: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; ; ) {
    if ((await monitorPid(dir)) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/**
 * The repair for a monitor killed by KILL: when no monitor of `dir` runs and the run that
 * started last has no exit recorded, records `unknown exited 255` (its real status is lost)
 * and returns true. Call it only when the container is not running.
 */
export async function recordLostExit(dir: string): Promise<boolean> {
  const record = await readRunRecord(dir);
  if (record.startedAt === undefined || record.exit !== undefined) return false;
  // A monitor spawned a moment ago may not have written its pid yet.
  if (Date.now() - record.startedAt.getTime() < startGraceMs) return false;
  if ((await monitorPid(dir)) !== undefined) return false;
  // The monitor may have just written it, between the two reads.
  if ((await readRunRecord(dir)).exit !== undefined) return false;
  await recordExit(dir, { result: 'unknown', how: 'exited', status: 255 });
  return true;
}
