// One syscontainer command at a time per container, and the repair of what a killed one left.
import path from 'node:path';
import { withLock } from '../common/file-lock.js';
import { validateContainerName } from './container-name.js';
import { say, type RuntimeContext } from './context.js';
import { DeploymentStore } from './deployment.js';
import { supervisorOf } from './supervisor/choose.js';
import { publishUnitFiles, unitFilesMatch } from './unit-files.js';

/** ROOT/.NAME.lock: one command at a time changes a container. NAME must be valid. */
export function containerLockDir(root: string, name: string): string {
  return path.join(root, `.${name}.lock`);
}

/**
 * Runs `body` holding the exclusive lock ROOT/.NAME.lock (common/file-lock.ts; a killed holder's lock
 * is stale at once), after repairing the host files. A second command waits, saying so, then
 * fails with ELOCKED. Take it once per command, outside: the `*HoldingLock` functions expect it
 * held and do not take it again (it is reentrant, but each entry would repair again).
 */
export async function withContainerLock<T>(ctx: RuntimeContext, name: string, body: () => Promise<T>): Promise<T> {
  validateContainerName(name);
  return withLock(containerLockDir(ctx.root, name), { mode: 'exclusive', what: `container ${name}`, waitMs: ctx.lockWaitMs, onWait: (message) => say(ctx, message) }, async () => {
    await repairHostFiles(ctx, name);
    return body();
  });
}

/**
 * Switching deployments changes the symlink and then the host's unit and tmpfiles files, so a
 * command killed in between leaves the host files of the other deployment (or none): make
 * them those of the active deployment again, and loaded. Nothing to do when nothing is active.
 */
async function repairHostFiles(ctx: RuntimeContext, name: string): Promise<void> {
  const active = await new DeploymentStore(ctx.root).active(name);
  if (active === undefined) return;
  if (await unitFilesMatch(ctx, name, active.dir, active.info)) return;
  // systemd may hold the other deployment's unit, loaded before the kill.
  await (await supervisorOf(ctx)).reload(await publishUnitFiles(ctx, name, active.dir, active.info));
}
