// Teardown of the runc-direct monitors (runtime/supervisor/container-monitor.ts) a test left
// running. A monitor applies its unit's restart policy: a teardown that only `runc delete
// --force`s the container and removes the test root looks to it like a crash, and it would run
// the container again from a half-deleted root. So: ask it to stop (the marker the supervisor
// writes), kill the container through the same runc it runs, wait for the monitor to end (its
// process group KILLed after 10 s), and only then let the caller delete the root.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

const marker = 'syscontainer-monitor';

interface LiveMonitor {
  pid: number;
  dir: string;
  name: string;
  /** The runc command line the monitor runs, up to its `run` (a prefix, runc, its --root). */
  runc: string[];
}

async function liveMonitors(): Promise<LiveMonitor[]> {
  const found: LiveMonitor[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').slice(0, -1);
    // sh -c SCRIPT syscontainer-monitor DIR ROOTFS 5×RULE RUNC... run ... NAME
    if (args[3] !== marker || args.length < 13) continue;
    const command = args.slice(11);
    const run = command.indexOf('run');
    if (run < 0) continue;
    found.push({ pid: Number(entry), dir: args[4] as string, name: command.at(-1) as string, runc: command.slice(0, run) });
  }
  return found;
}

const alive = (pid: number) => readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => !/^\S+ \(.*\) [ZX]/.test(stat), () => false);

/** The pids of the live monitors of containers named `name`. */
export async function monitorsNamed(name: string): Promise<number[]> {
  return (await liveMonitors()).filter((m) => m.name === name).map((m) => m.pid);
}

/**
 * Stops every live monitor whose deployment directory is under `under` or whose container's
 * name starts with `named`, and the containers they run; resolves when none of them is left.
 */
export async function stopMonitors(which: { under?: string; named?: string }): Promise<void> {
  const mine = (await liveMonitors()).filter(
    (m) => (which.under !== undefined && m.dir.startsWith(`${which.under.replace(/\/$/, '')}/`)) || (which.named !== undefined && m.name.startsWith(which.named)),
  );
  await Promise.all(
    mine.map(async (m) => {
      await writeFile(`${m.dir}/stop-requested`, '').catch(() => undefined);
      const [file, ...global] = m.runc as [string, ...string[]];
      for (const deadline = Date.now() + 10_000; (await alive(m.pid)) && Date.now() < deadline; ) {
        await execa(file, [...global, 'kill', m.name, 'KILL'], { reject: false });
        await sleep(100);
      }
      if (await alive(m.pid)) {
        try {
          process.kill(-m.pid, 'SIGKILL');
        } catch {
          // ended meanwhile
        }
        await execa(file, [...global, 'delete', '--force', m.name], { reject: false });
      }
    }),
  );
}
