// `install --rootfs PATH`: an exploded rootfs used in place, read-only, as Atomic's --rootfs
// (its "remote" rootfs) resolved it: PATH/rootfs when that exists (PATH is a container's
// location, e.g. another deployment ROOT/OTHER.0 or its link ROOT/OTHER), else PATH itself
// when it holds usr/; symlinks are followed. Such a rootfs belongs to someone else, so nothing
// is ever written into it: runc would create the mount points it lacks, so those make the
// install fail first, naming them.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import type { OciRuntimeSpec } from './oci-runtime-spec.js';
import { resolveInRootfs } from './rootfs-files.js';

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The rootfs directory `given` names (real path, symlinks resolved). Throws ENOTFOUND naming what is missing. */
export async function resolveExternalRootfs(given: string): Promise<string> {
  const real = await realpath(path.resolve(given)).catch(() => undefined);
  if (real === undefined || !(await isDirectory(real))) throw new SyscontainerError('ENOTFOUND', `--rootfs ${given}: no such directory`);
  if (await isDirectory(path.join(real, 'rootfs'))) return realpath(path.join(real, 'rootfs'));
  if (await isDirectory(path.join(real, 'usr'))) return real;
  throw new SyscontainerError('ENOTFOUND', `--rootfs ${given}: holds no rootfs (neither ${path.join(real, 'rootfs')} nor a usr/ directory)`);
}

/**
 * Mount destinations of `spec` that `rootfs` lacks (a destination inside another mount of the
 * spec, such as /dev/pts in /dev's tmpfs, is made there, not in the rootfs). Read-only.
 */
export async function missingMountPoints(rootfs: string, spec: OciRuntimeSpec): Promise<string[]> {
  const destinations = (spec.mounts ?? []).map((m) => path.posix.resolve('/', m.destination));
  const missing: string[] = [];
  for (const [index, destination] of destinations.entries()) {
    if (destination === '/') continue;
    const insideEarlier = destinations.slice(0, index).some((d) => d !== '/' && destination.startsWith(`${d}/`));
    if (insideEarlier) continue;
    if ((await resolveInRootfs(rootfs, destination)) === undefined) missing.push(destination);
  }
  return missing;
}

/** Throws EINVAL when `rootfs` lacks mount points `spec` needs: runc would create them in it. */
export async function checkExternalRootfs(rootfs: string, spec: OciRuntimeSpec, given: string): Promise<void> {
  const missing = await missingMountPoints(rootfs, spec);
  if (missing.length > 0) {
    throw new SyscontainerError('EINVAL', `--rootfs ${given}: the rootfs ${rootfs} lacks the mount point${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
      hint: 'a rootfs given by --rootfs is used read-only and never written to; use one that has them',
    });
  }
}
