// `mount IMAGE|NAME DIR` and `umount DIR`, as atomic's for system containers: a rootfs shown
// at DIR for inspection, read-only. An installed container's is its active deployment's rootfs
// (the image's shared one, or its --rootfs); an image's is its shared rootfs, checked out
// first when it is not yet. Nothing is copied: a bind mount, remounted read-only, so nothing
// written at DIR can reach the store's objects; umount is all the clean-up there is.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import { validateContainerName } from './container-name.js';
import type { RuntimeContext, RuntimeImage } from './context.js';
import { DeploymentStore } from './deployment.js';
import { mountReadOnly, unmountReadOnly } from './read-only-mount.js';

export interface MountedRootfs {
  /** What was mounted: the container's or the image's name. */
  target: string;
  kind: 'container' | 'image';
  /** The rootfs directory bind-mounted. */
  source: string;
  /** Where it is mounted (real path). */
  mountPoint: string;
}

async function installedRootfs(ctx: RuntimeContext, name: string): Promise<string | undefined> {
  try {
    validateContainerName(name);
  } catch {
    return undefined;
  }
  const active = await new DeploymentStore(ctx.root).active(name);
  if (active === undefined) return undefined;
  if (active.info.noContainerService === true) throw new SyscontainerError('EINVAL', `container ${name} installs host files only: it has no rootfs to mount`);
  return realpath(path.join(active.dir, 'rootfs'));
}

/** Mounts the rootfs of installed container or stored image `target` read-only at `dir` (an empty directory). */
export async function mountRootfs<I extends RuntimeImage>(ctx: RuntimeContext<I>, target: string, dir: string): Promise<MountedRootfs> {
  const container = await installedRootfs(ctx, target);
  if (container !== undefined) return { target, kind: 'container', source: container, mountPoint: await mountReadOnly(container, dir) };
  const image = await ctx.store.getImage(target);
  if (image === undefined) {
    throw new SyscontainerError('ENOTFOUND', `${target} is neither an installed container nor an image in the store`, { hint: `pull it first: syscontainer pull ${target}` });
  }
  // Held while mounting: the rootfs cannot be removed between its checkout and the mount.
  return ctx.store.withRootfs(image, async (source) => ({ target: image.name, kind: 'image', source, mountPoint: await mountReadOnly(source, dir) }));
}

/** Unmounts what mountRootfs put at `dir`; ENOTFOUND when nothing is mounted there. */
export function unmountRootfs(dir: string): Promise<string> {
  return unmountReadOnly(dir);
}
