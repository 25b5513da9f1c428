// Materialises an image's rootfs: each layer commit checked out in order into one directory
// with `ostree checkout --union --whiteouts --require-hardlinks`, so files are hardlinks into
// the repository (the rootfs must stay read-only) and whiteouts/opaque dirs are applied.
//
// Atomic: the tree is built in `DEST.tmp-XXXXXX` and renamed to DEST only when complete; on
// failure the partial tree is removed. DEST must not exist.
//
// Safety: `ostree checkout --union` follows a symlink already in the destination when a later
// layer has a directory at that path, so a layer `evil -> /etc` followed by a layer with
// `evil/x` (or `evil/.wh.passwd`) would write (or delete) outside the rootfs. Before each
// layer after the first, every directory the layer writes into is checked with lstat; a
// symlink there fails the checkout (ELAYER) before anything is written.
import { chmod, lstat, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { SyscontainerError } from './errors.js';
import type { ImageStore, StoredImage } from './image-store.js';
import type { OstreeRepo } from './ostree.js';

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Removes a tree even where layers left directories without write permission (non-root). */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through: make directories writable, then retry
  }
  const open = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700).catch(() => undefined);
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await open(join(dir, entry.name));
    }
  };
  await open(path);
  await rm(path, { recursive: true, force: true });
}

/** Fails when a directory `commit` writes into is a symlink in `tree` (see header comment). */
async function assertNoSymlinkTraversal(repo: OstreeRepo, commit: string, tree: string, what: string): Promise<void> {
  const entries = await repo.listTree(commit);
  const dirs = new Set<string>();
  for (const entry of entries) {
    if (entry.type === 'directory') dirs.add(entry.path);
    for (let parent = posix.dirname(entry.path); parent !== '/' && !dirs.has(parent); parent = posix.dirname(parent)) {
      dirs.add(parent);
    }
  }
  for (const dir of dirs) {
    let isLink = false;
    try {
      isLink = (await lstat(join(tree, dir))).isSymbolicLink();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    if (isLink) {
      throw new SyscontainerError('ELAYER', `${what} writes into ${dir}, which an earlier layer made a symlink`, {
        hint: 'the image is malformed or hostile; it is not checked out',
      });
    }
  }
}

/**
 * Checks out `image` into `dest` (which must not exist: EEXIST). All-or-nothing: on error no
 * `dest` and no temporary directory remain. `dest`'s parent must exist and be on the
 * repository's filesystem (hardlinks).
 */
export async function checkoutImage(store: ImageStore, image: StoredImage, dest: string): Promise<void> {
  if (await exists(dest)) throw new SyscontainerError('EEXIST', `checkout of image ${image.name}: ${dest} already exists`);
  const missing = image.layers.find((layer) => layer.commit === '');
  if (missing) {
    throw new SyscontainerError('ENOTFOUND', `image ${image.name}: layer ${missing.digest.slice(0, 19)} is not stored`, {
      hint: 'pull the image again',
    });
  }
  const userMode = await store.checkoutUserMode();
  const tmp = await mkdtemp(`${dest}.tmp-`);
  try {
    await chmod(tmp, 0o755);
    for (const [index, layer] of image.layers.entries()) {
      const what = `image ${image.name}: layer ${index + 1} (${layer.digest.slice(0, 19)})`;
      if (index > 0) await assertNoSymlinkTraversal(store.repo, layer.commit, tmp, what);
      await store.repo.checkout(layer.commit, tmp, { union: true, whiteouts: true, requireHardlinks: true, userMode });
    }
    if (await exists(dest)) throw new SyscontainerError('EEXIST', `checkout of image ${image.name}: ${dest} already exists`);
    await rename(tmp, dest);
  } catch (error) {
    await removeTree(tmp);
    throw error;
  }
}

/** The directory a checkout at `dest` is built in, for callers cleaning up after a crash. */
export function isCheckoutTemp(dest: string, candidate: string): boolean {
  return dirname(candidate) === dirname(dest) && posix.basename(candidate).startsWith(`${posix.basename(dest)}.tmp-`);
}
