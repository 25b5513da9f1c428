// Samples a process tree through /proc while it runs: the peak of the summed RSS of all its
// processes, each process's peak RSS (VmHWM), and the CPU time per command name. Processes
// are found through /proc/PID/task/TID/children, so only the tree is read, not all of /proc.
// CPU of a process is its last sample: up to one interval is lost per process, and
// processes living shorter than one interval may be missed (whole-tree CPU comes from
// /usr/bin/time instead; this only splits it).
import { readdir, readFile } from 'node:fs/promises';

const clockTicks = 100; // sysconf(_SC_CLK_TCK) on Linux
const pageBytes = 4096;

export interface TreeUsage {
  /** Largest sum of RSS over the tree's processes at one sample. */
  peakTreeRssBytes: number;
  /** Per command name: the largest VmHWM seen among its processes. */
  peakRssByCommand: Record<string, number>;
  /** Per command name: user+system seconds summed over its processes. */
  cpuByCommand: Record<string, number>;
}

interface ProcStat {
  comm: string;
  cpuSeconds: number;
  rssBytes: number;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    return {
      comm: text.slice(open + 1, close),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicks,
      rssBytes: Number(fields[21]) * pageBytes,
    };
  } catch {
    return undefined; // exited
  }
}

async function readHwm(pid: number): Promise<number> {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function children(pid: number): Promise<number[]> {
  try {
    const tasks = await readdir(`/proc/${pid}/task`);
    const lists = await Promise.all(tasks.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')));
    return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

async function tree(root: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(await children(pid)));
  }
  return out;
}

/** Starts sampling the tree under `rootPid` every `intervalMs`; stop() returns the usage. */
export function sampleTree(rootPid: number, intervalMs = 50): { stop(): Promise<TreeUsage> } {
  const last = new Map<number, ProcStat>();
  const hwm = new Map<number, number>();
  let peakTree = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let sum = 0;
      for (const pid of await tree(rootPid)) {
        const stat = await readStat(pid);
        if (stat === undefined) continue;
        last.set(pid, stat);
        sum += stat.rssBytes;
        hwm.set(pid, Math.max(hwm.get(pid) ?? 0, await readHwm(pid)));
      }
      peakTree = Math.max(peakTree, sum);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const cpuByCommand: Record<string, number> = {};
      const peakRssByCommand: Record<string, number> = {};
      for (const [pid, stat] of last) {
        cpuByCommand[stat.comm] = (cpuByCommand[stat.comm] ?? 0) + stat.cpuSeconds;
        peakRssByCommand[stat.comm] = Math.max(peakRssByCommand[stat.comm] ?? 0, hwm.get(pid) ?? 0);
      }
      return { peakTreeRssBytes: peakTree, peakRssByCommand, cpuByCommand };
    },
  };
}
