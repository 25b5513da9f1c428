// mount and umount, as atomic's: an image's or an installed container's rootfs shown
// read-only at a directory for inspection (runtime/rootfs-mount.ts).
import { mountRootfs, unmountRootfs, type MountedRootfs } from '../runtime/index.js';
import type { AppContext } from './context.js';

export function mountImage(app: AppContext, input: { target: string; dir: string }): Promise<MountedRootfs> {
  return mountRootfs(app.runtime, input.target, input.dir);
}

export function unmountImage(_app: AppContext, input: { dir: string }): Promise<string> {
  return unmountRootfs(input.dir);
}
