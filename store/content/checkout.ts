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
// layer after the first, every directory the layer writes into that is a symlink in the tree
// fails the checkout (ELAYER) before anything is written. Only paths that were leaves of an
// earlier layer can be symlinks, so only those are looked at (one `ls -R` per layer).
import { chmod, lstat, mkdtemp, rename } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { shortDigest } from '../../common/digest.js';
import { SyscontainerError } from '../../common/errors.js';
import { pathExists } from '../../common/path-exists.js';
import { removeTree } from '../../common/remove-tree.js';
import type { OstreeRepo } from '../ostree/ostree-repo.js';

/**
 * What a checkout needs of an image: its name (for messages) and its layers' commits, in
 * order. A commit may still be on its way (a pull importing it): each layer is checked out as
 * soon as it and those below it are stored, and a rejected commit fails the checkout.
 */
export interface CheckoutSource {
  name: string;
  layers: ReadonlyArray<{ digest: string; commit: string | Promise<string> }>;
}

/** What a checkout needs of the store: the repository's listing and checkout, and the ownership mode. */
export interface CheckoutRepo {
  repo: Pick<OstreeRepo, 'listPaths' | 'entryTypes' | 'checkout'>;
  checkoutUserMode(): Promise<boolean>;
}

function traversal(what: string, dir: string): SyscontainerError {
  return new SyscontainerError('ELAYER', `${what} writes into ${dir}, which an earlier layer made a symlink`, {
    hint: 'the image is malformed or hostile; it is not checked out',
  });
}

/** A layer's paths (latin1, as OstreeRepo.listPaths gives them) split into the directories it writes into and its leaves. */
interface LayerShape {
  /** Every proper ancestor of an entry, without "/": the directories the checkout writes into. */
  parents: Set<string>;
  /** Entries with nothing under them (files, symlinks, whiteouts, empty directories). */
  leaves: string[];
}

function layerShape(paths: readonly string[]): LayerShape {
  const parents = new Set<string>();
  for (const path of paths) {
    for (let parent = posix.dirname(path); parent !== '/' && !parents.has(parent); parent = posix.dirname(parent)) parents.add(parent);
  }
  return { parents, leaves: paths.filter((path) => !parents.has(path)) };
}

/** Whether `path` (latin1, "/a/b") is a symlink in `tree` now. */
async function isSymlinkIn(tree: Buffer, path: string): Promise<boolean> {
  try {
    return (await lstat(Buffer.concat([tree, Buffer.from(path, 'latin1')]))).isSymbolicLink();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

async function symlinksAmong(tree: Buffer, paths: readonly string[]): Promise<string[]> {
  const flags = await Promise.all(paths.map((path) => isSymlinkIn(tree, path)));
  return paths.filter((_, index) => flags[index]);
}

/**
 * Fails when a directory `commit` writes into is a symlink in `tree` (see header comment).
 * A symlink in the tree is always a leaf of an earlier layer (`earlierLeaves`), so only the
 * paths this layer shares with those leaves are looked at: a shared directory it writes into
 * fails when it is a symlink now (lstat); a shared leaf that is a symlink now fails when this
 * layer has a directory there (asked of ostree; a file or symlink replaces the link).
 */
async function assertNoSymlinkTraversal(repo: CheckoutRepo['repo'], commit: string, shape: LayerShape, earlierLeaves: ReadonlySet<string>, tree: Buffer, what: string): Promise<void> {
  const display = (path: string): string => Buffer.from(path, 'latin1').toString();
  const writtenInto = [...shape.parents].filter((dir) => earlierLeaves.has(dir));
  const linkedDir = (await symlinksAmong(tree, writtenInto))[0];
  if (linkedDir !== undefined) throw traversal(what, display(linkedDir));
  const linkedLeaves = await symlinksAmong(tree, shape.leaves.filter((path) => earlierLeaves.has(path)));
  if (linkedLeaves.length === 0) return;
  for (const [path, type] of await repo.entryTypes(commit, linkedLeaves)) {
    if (type === 'directory') throw traversal(what, display(path));
  }
}

/**
 * Checks out `image` into `dest` (which must not exist: EEXIST). All-or-nothing: on error no
 * `dest` and no temporary directory remain. `dest`'s parent must exist and be on the
 * repository's filesystem (hardlinks).
 */
export async function checkoutImage(store: CheckoutRepo, image: CheckoutSource, dest: string): Promise<void> {
  if (await pathExists(dest)) throw new SyscontainerError('EEXIST', `checkout of image ${image.name}: ${dest} already exists`);
  const notStored = (digest: string) =>
    new SyscontainerError('ENOTFOUND', `image ${image.name}: layer ${shortDigest(digest)} is not stored`, { hint: 'pull the image again' });
  const missing = image.layers.find((layer) => layer.commit === '');
  if (missing) throw notStored(missing.digest);
  const userMode = await store.checkoutUserMode();
  const tmp = await mkdtemp(`${dest}.tmp-`);
  try {
    await chmod(tmp, 0o755);
    // Every layer's listing is needed before the next layer: one `ls -R` each, the next one
    // started while a layer is checked out, so they overlap without piling up processes. A
    // single layer needs none.
    const listings = new Map<number, Promise<string[]>>();
    const listing = (index: number): Promise<string[]> => {
      let paths = listings.get(index);
      if (paths === undefined) {
        paths = Promise.resolve(image.layers[index]!.commit).then((commit) => store.repo.listPaths(commit));
        paths.catch(() => undefined); // awaited when its layer comes; unused if an earlier one fails
        listings.set(index, paths);
      }
      return paths;
    };
    const last = image.layers.length - 1;
    const treeBytes = Buffer.from(tmp);
    const earlierLeaves = new Set<string>();
    for (const [index, layer] of image.layers.entries()) {
      const what = `image ${image.name}: layer ${index + 1} (${shortDigest(layer.digest)})`;
      const commit = await layer.commit;
      if (commit === '') throw notStored(layer.digest);
      let shape: LayerShape | undefined;
      if (index > 0) {
        shape = layerShape(await listing(index));
        await assertNoSymlinkTraversal(store.repo, commit, shape, earlierLeaves, treeBytes, what);
      }
      const checkout = store.repo.checkout(commit, tmp, { union: true, whiteouts: true, requireHardlinks: true, userMode });
      if (index < last) {
        void listing(index);
        void listing(index + 1);
      }
      await checkout;
      if (index < last) {
        for (const leaf of (shape ?? layerShape(await listing(index))).leaves) earlierLeaves.add(leaf);
      }
    }
    if (await pathExists(dest)) throw new SyscontainerError('EEXIST', `checkout of image ${image.name}: ${dest} already exists`);
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
