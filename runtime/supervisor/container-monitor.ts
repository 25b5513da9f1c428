// What conmon is to podman, for the runc-direct supervisor: one small process per container,
// in a session of its own (it outlives the command that started it, and a terminal's signals
// do not reach it), that runs `runc run NAME` in the foreground with the output appended to
// DIR/container.log (each line stamped with its time and stream: container-log.ts) and, when
// the container exits, records the exit in DIR/exit-status
// exactly as the unit's ExecStopPost does under systemd: `RESULT exited CODE`, written to a
// temporary name and renamed (runc's exit code is the container's, 128 + N for signal N), and
// appended to DIR/exits with its time. Then it applies the unit's restart policy, as systemd
// would (see the script), counting the restarts in DIR/restarts.
//
// It is /bin/sh, as ExecStopPost is: about 1 MB per container and no Node start-up per start.
// TERM, INT, HUP and QUIT to the monitor are caught and ignored, so only a KILL loses its
// record; the container keeps running then (its runc is not the monitor), and whoever next
// finds the monitor gone and no record for the run (status, start, stop: see lostExit) writes
// `unknown exited 255`. The monitor writes its pid to DIR/monitor.pid; it counts as alive only
// while that process is a monitor of DIR (its command line says so), so a reused pid is not it.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError } from '../../common/errors.js';
import { appendExitShell, markStarted, readRunRecord, recordExit } from '../exit-status.js';
import { containerLogName, tagShell } from './container-log.js';
import type { RestartRules } from './monitor-restart.js';

export { containerLogName };

const pidFileName = 'monitor.pid';
/** Written by whoever stops the container before it signals it: the monitor then runs it no more. */
const stopRequestedName = 'stop-requested';
/** How often the monitor has run the container again since it was started (docker's RestartCount). */
const restartCountName = 'restarts';
/** The monitor's $0: what names it in ps, and in its /proc command line. */
const marker = 'syscontainer-monitor';
/** How long after a start a missing pid file may still be a monitor on its way. */
const startGraceMs = 2000;

// $1 the deployment directory, $2 the container's rootfs, $3-$7 the restart rules
// (monitor-restart.ts: policy, first delay, longest delay, start burst, its window in ms; 0
// burst: no limit, 0 window: since the start), then the runc command line. Its output is the log already: runc's stdout and stderr
// go each through a tagger into it (container-log.ts), and runc's status comes out on fd 4;
// the taggers have written the last lines when it is read. After each exit it runs the
// container again when the policy says so, after the delay (doubled each time up to the
// longest), unless a stop was asked for (DIR/${stopRequestedName}, looked for after the exit,
// during the delay and just before the run), the deployment or its bundle is gone (a half-deleted
// root is no container to run), or the start limit is reached (systemd's start-limit-hit).
const tag = (stream: string) => `bash -c '${tagShell}' tag ${stream} 3>&- 4>&- >&5`;
const script = `dir=$1 rootfs=$2 policy=$3 pause=$4 longest=$5 burst=$6 window=$7; shift 7
trap : HUP INT TERM QUIT
echo $$ > "$dir/.monitor.pid.tmp" && mv -f "$dir/.monitor.pid.tmp" "$dir/${pidFileName}"
stopped() { [ -e "$dir/${stopRequestedName}" ] || ! [ -f "$dir/config.json" ] || ! [ -d "$rootfs" ]; }
starts=$(date +%s%3N) restarts=0
exec 5>&1
while :; do
code=$( { { { "$@" </dev/null 2>&1 >&3 3>&- 4>&- 5>&-; echo $? >&4; } | ${tag('stderr')}; } 3>&1 | ${tag('stdout')}; } 4>&1 )
if [ "$code" -eq 0 ]; then result=success; else result=exit-code; fi
echo "$result exited $code" > "$dir/.exit-status.tmp" && mv -f "$dir/.exit-status.tmp" "$dir/exit-status"
${appendExitShell('$dir', '$result', 'exited', '$code')}
case $policy in always) ;; on-failure) [ "$code" -ne 0 ] || break ;; *) break ;; esac
waited=0
while ! stopped && [ $waited -lt $pause ]; do
  step=$((pause - waited)); [ $step -le 200 ] || step=200
  sleep $((step / 1000)).$(printf %03d $((step % 1000))); waited=$((waited + step))
done
stopped && break
pause=$((pause * 2)); [ $pause -le $longest ] || pause=$longest
now=$(date +%s%3N) kept= count=0
for at in $starts; do if [ $window -eq 0 ] || [ $((now - at)) -lt $window ]; then kept="$kept $at"; count=$((count + 1)); fi; done
starts="$kept $now"
[ $burst -eq 0 ] || [ $count -lt $burst ] || break
restarts=$((restarts + 1))
echo $restarts > "$dir/.${restartCountName}.tmp" && mv -f "$dir/.${restartCountName}.tmp" "$dir/${restartCountName}"
rm -f "$dir/exit-status" "$dir/container.pid" "$dir/.container.pid" && touch "$dir/started"
done
exec 5>&-
rm -f "$dir/${pidFileName}"`;

/**
 * Marks the start (markStarted: the last exit forgotten; no stop asked for, no restarts yet)
 * and spawns the monitor of the container whose bundle is `dir`, running `command`
 * (Runc.runCommand) and again as `rules` say. Resolves once the monitor process exists; it
 * then runs on its own.
 */
export async function spawnMonitor(dir: string, command: [string, string[]], rules: RestartRules): Promise<void> {
  for (const file of [stopRequestedName, restartCountName]) await rm(path.join(dir, file), { force: true });
  await markStarted(dir);
  const log = openSync(path.join(dir, containerLogName), 'a', 0o640);
  try {
    const [file, argv] = command;
    const policy = [rules.restart, rules.delayMs, rules.maxDelayMs, rules.burst, rules.intervalMs].map(String);
    const child = spawn('/bin/sh', ['-c', script, marker, dir, await rootfsOf(dir), ...policy, file, ...argv], { detached: true, stdio: ['ignore', log, log] });
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

/** The bundle's root.path, as runc resolves it (relative to the bundle). */
async function rootfsOf(dir: string): Promise<string> {
  const spec = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8').catch(() => '{}')) as { root?: { path?: unknown } };
  return path.resolve(dir, typeof spec.root?.path === 'string' ? spec.root.path : 'rootfs');
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

/** Tells the monitor of `dir` to run the container no more (call it before signalling the container). */
export async function requestStop(dir: string): Promise<void> {
  await writeFile(path.join(dir, stopRequestedName), '').catch(() => undefined);
}

/** How often the monitor of `dir` ran the container again since its last explicit start (0 when never). Read-only. */
export async function readRestartCount(dir: string): Promise<number> {
  const count = Number((await readFile(path.join(dir, restartCountName), 'utf8').catch(() => '0')).trim());
  return Number.isInteger(count) && count >= 0 ? count : 0;
}
