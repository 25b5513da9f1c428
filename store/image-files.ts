// Reading a few files of a stored image without checking it out: what `images info` needs
// from /exports. Layers are searched from the top; a whiteout or an opaque directory in a
// higher layer hides what lower layers have, as in a checkout.
import { posix } from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import type { ImageStore, StoredImage } from './image-store.js';

/**
 * The files named `names` in directory `dir` of the image (absent ones left out), at most
 * `maxBytes` each. Two ostree calls per layer visited; stops at the first layer that hides
 * the directory.
 */
export async function readImageFiles(
  store: ImageStore,
  image: StoredImage,
  dir: string,
  names: readonly string[],
  maxBytes = 1024 * 1024,
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const hidden = new Set<string>();
  const parent = posix.dirname(dir);
  const base = posix.basename(dir);
  for (const layer of [...image.layers].reverse()) {
    if (layer.commit === '') throw new SyscontainerError('ESTORE', `image ${image.name}: layer ${layer.digest} is missing; pull it again`);
    const entries = await store.repo.listDir(layer.commit, dir);
    for (const name of names) {
      if (found.has(name) || hidden.has(name) || !entries) continue;
      if (entries.includes(`.wh.${name}`)) hidden.add(name);
      else if (entries.includes(name)) found.set(name, await store.repo.readFile(layer.commit, posix.join(dir, name), maxBytes));
    }
    // Lower layers are hidden by an opaque marker here, or by a whiteout of the directory itself.
    if (entries?.includes('.wh..wh..opq')) break;
    const parentEntries = entries ? undefined : await store.repo.listDir(layer.commit, parent);
    if (parentEntries?.includes(`.wh.${base}`)) break;
  }
  return found;
}
