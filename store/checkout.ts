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

function traversal(what: string, dir: string): SyscontainerError {
  return new SyscontainerError('ELAYER', `${what} writes into ${dir}, which an earlier layer made a symlink`, {
    hint: 'the image is malformed or hostile; it is not checked out',
  });
}

/**
 * The symlinks in `tree` as absolute latin1 paths ("/bin/sh"), or undefined when a directory
 * cannot be read (a non-root checkout of a directory without read permission).
 */
async function symlinksIn(tree: string): Promise<Set<string> | undefined> {
  const links = new Set<string>();
  const treeBytes = Buffer.from(tree);
  const walk = async (rel: string): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(Buffer.concat([treeBytes, Buffer.from(rel, 'latin1')]), { withFileTypes: true, encoding: 'latin1' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') return false;
      throw error;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      const path = `${rel}/${entry.name}`;
      if (entry.isSymbolicLink()) links.add(path);
      else if (entry.isDirectory()) subdirs.push(path);
    }
    const results = await Promise.all(subdirs.map(walk));
    return results.every(Boolean);
  };
  return (await walk('')) ? links : undefined;
}

/**
 * Fails when a directory `commit` writes into is a symlink in `tree` (see header comment).
 * One `ls -R` of the commit and one walk of the tree's symlinks; ostree is asked for an
 * entry's type only where the commit has a leaf at a path that is a symlink in the tree
 * (a directory there would be written through, a file or symlink replaces the link).
 */
async function assertNoSymlinkTraversal(repo: OstreeRepo, commit: string, tree: string, what: string): Promise<void> {
  const [paths, links] = await Promise.all([repo.listPaths(commit), symlinksIn(tree)]);
  if (links === undefined) return assertNoSymlinkTraversalByLstat(repo, commit, tree, what);
  if (links.size === 0) return;
  const display = (path: string): string => Buffer.from(path, 'latin1').toString();
  const parents = new Set<string>();
  const leaves: string[] = [];
  for (const path of paths) {
    for (let parent = posix.dirname(path); parent !== '/' && !parents.has(parent); parent = posix.dirname(parent)) {
      if (links.has(parent)) throw traversal(what, display(parent));
      parents.add(parent);
    }
    if (links.has(path)) leaves.push(path);
  }
  // A leaf that turned out to have children was caught above when its child came by.
  const unknown = leaves.filter((path) => !parents.has(path));
  if (unknown.length === 0) return;
  for (const [path, type] of await repo.entryTypes(commit, unknown)) {
    if (type === 'directory') throw traversal(what, display(path));
  }
}

/** The same check from the commit's typed listing and an lstat per directory it writes into. */
async function assertNoSymlinkTraversalByLstat(repo: OstreeRepo, commit: string, tree: string, what: string): Promise<void> {
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
    if (isLink) throw traversal(what, dir);
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
