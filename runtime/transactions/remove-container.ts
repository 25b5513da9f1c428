// Removing everything of a container, in the order that never leaves a unit pointing at a
// removed rootfs: used by uninstall and to undo a failed install.
import { rm } from 'node:fs/promises';
import { pathExists } from '../../common/path-exists.js';
import type { RuntimeContext } from '../context.js';
import { DeploymentStore } from '../deployment.js';
import { removeDeploymentHostFiles } from '../deployment-host-files.js';
import { releaseRootfsOf } from '../rootfs-release.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { healthUnitNames, removeUnitFiles, tmpfilesFile, unitFile } from '../unit-files.js';
import path from 'node:path';

/**
 * Stops the container, removes its unit, tmpfiles file, the image's host files (unmodified ones),
 * both slots and the link, and releases the image rootfs they used; `purge` also removes the
 * state directories they name. Idempotent. The caller holds the container's lock.
 */
export async function removeContainer(ctx: RuntimeContext, supervisor: Supervisor, name: string, purge: boolean): Promise<void> {
  const deployments = new DeploymentStore(ctx.root);
  const active = await deployments.active(name);
  const infos = [active?.info];
  for (const slot of [0, 1] as const) infos.push(await deployments.readInfo(deployments.slotDir(name, slot)));
  // Every step is tried even when one before failed (a runtime that is no runtime fails the
  // stop): nothing is left behind that can go; the first failure is reported at the end.
  let failure: unknown;
  const step = async (body: () => Promise<unknown>) => {
    try {
      await body();
    } catch (error) {
      failure ??= error;
    }
  };
  await step(() => supervisor.stop(name));
  await step(() => supervisor.disable(name));
  // The unit goes first: never a unit pointing at a removed rootfs.
  await step(() => rm(unitFile(ctx, name), { force: true }));
  for (const unit of healthUnitNames(name)) await step(() => rm(path.join(ctx.unitDir, unit), { force: true }));
  await step(() => supervisor.forget(name));
  if (await pathExists(tmpfilesFile(ctx, name))) {
    await ctx.systemd.tmpfilesRemove(tmpfilesFile(ctx, name)).catch(() => undefined);
    await step(() => rm(tmpfilesFile(ctx, name), { force: true }));
  }
  // The image's host files by the active deployment's record: only unmodified ones go.
  await step(() => removeDeploymentHostFiles(ctx, name, active?.info));
  await step(() => deployments.removeLink(name));
  await step(() => deployments.removeTree(deployments.slotDir(name, 0)));
  await step(() => deployments.removeTree(deployments.slotDir(name, 1)));
  // What an update killed midway left aside.
  for (const slot of [0, 1] as const) await step(() => deployments.removeTree(deployments.replacedDir(name, slot)));
  await step(() => removeUnitFiles(ctx, name));
  await step(() => releaseRootfsOf(ctx, infos));
  if (purge) {
    for (const dir of new Set(infos.flatMap((i) => (i === undefined ? [] : [i.stateDirectory])))) {
      if (dir.startsWith('/') && dir.split('/').filter(Boolean).length >= 2) await step(() => deployments.removeTree(dir));
    }
  }
  if (failure !== undefined) throw failure;
}
