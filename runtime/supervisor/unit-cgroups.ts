// The cgroup directories of a container's unit: config.json puts the container in
// /system.slice/NAME.service/container (render.ts, unitCgroupPath), a child of the unit's own
// cgroup, so that systemd's stop reaches every process of it.
import { readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { unitName } from '../unit-files.js';

/**
 * Without systemd, runc made the unit's cgroup path itself and leaves the empty parent behind:
 * remove it from every hierarchy. Only empty directories go (rmdir), so nothing running is touched.
 */
export async function removeUnitCgroups(name: string): Promise<void> {
  const base = '/sys/fs/cgroup';
  const hierarchies = (await readdir(base).catch(() => [] as string[])).map((h) => path.join(base, h));
  // A killed container's processes may take a moment to be reaped (EBUSY until then).
  for (let attempt = 0; attempt < 15; attempt++) {
    let busy = false;
    for (const dir of [base, ...hierarchies]) {
      const unitDir = path.join(dir, 'system.slice', unitName(name));
      for (const target of [path.join(unitDir, 'container'), unitDir]) {
        await rmdir(target).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EBUSY') busy = true;
        });
      }
    }
    if (!busy) return;
    await sleep(200);
  }
}
