// Which image rootfs (store/image-rootfs.ts) deployments use. A deployment links its rootfs as
// ROOT/NAME.N/rootfs → the image's shared directory; a one-off run links ROOT/.run/NAME/rootfs.
// The store asks this before removing a rootfs, holding that rootfs' lock, so a deployment
// being built (which links it under the same lock) is always seen.
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Directories that hold a `rootfs` link: every deployment slot and every one-off run bundle. */
async function bundleDirs(root: string): Promise<string[]> {
  const slots = (await readdir(root).catch(() => [] as string[])).filter((entry) => /\.[01]$/.test(entry)).map((entry) => path.join(root, entry));
  const runs = (await readdir(path.join(root, '.run')).catch(() => [] as string[])).map((entry) => path.join(root, '.run', entry));
  return [...slots, ...runs];
}

/** A predicate for the store: whether any deployment or run links the rootfs at `dir`. */
export function rootfsInUse(root: string): (dir: string) => Promise<boolean> {
  return async (dir) => {
    const wanted = path.resolve(dir);
    for (const bundle of await bundleDirs(root)) {
      const target = await readlink(path.join(bundle, 'rootfs')).catch(() => undefined);
      if (target !== undefined && path.resolve(bundle, target) === wanted) return true;
    }
    return false;
  };
}
