// What a killed command leaves (a slot without its info record, a link to nothing, a unit of
// a container whose deployment never completed) is removed when the REST service starts, so
// a kill -9 in the middle of a create leaves no half-made container for clients to see. The
// CLI's next install of that name does the same for that name.
import { readdir } from 'node:fs/promises';
import { containerLockDir, DeploymentStore, uninstall, validateContainerName } from '../runtime/index.js';
import type { AppContext } from './context.js';
import { withLock } from '../common/file-lock.js';

/** Names with debris and no active deployment; each is uninstalled (under its lock). Returns them. */
export async function repairDebris(app: AppContext): Promise<string[]> {
  const ctx = app.runtime;
  const deployments = new DeploymentStore(ctx.root);
  const entries = await readdir(ctx.root).catch(() => [] as string[]);
  const candidates = new Set<string>();
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    const name = entry.replace(/\.[01]$/, '');
    try {
      validateContainerName(name);
    } catch {
      continue;
    }
    candidates.add(name);
  }
  const repaired: string[] = [];
  for (const name of candidates) {
    if ((await deployments.active(name)) !== undefined) continue;
    // Checked again under the container's lock: a command making it right now holds the lock,
    // and is then left alone (it finishes, or its own failure path cleans up).
    await withLock(containerLockDir(ctx.root, name), { mode: 'exclusive', what: `container ${name}`, waitMs: 0 }, async () => {
      if ((await deployments.active(name)) !== undefined || !(await deployments.anyExists(name))) return;
      await uninstall(ctx, { name });
      repaired.push(name);
    }).catch(() => undefined);
  }
  return repaired;
}
