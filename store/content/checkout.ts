// Materialises an image's rootfs: each layer commit checked out in order into one directory
// with `ostree checkout --union --whiteouts --require-hardlinks`, so files are hardlinks into
// the repository (the rootfs must stay read-only) and whiteouts/opaque dirs are applied.
//
// Atomic: the tree is built in `DEST.tmp-XXXXXX` and renamed to DEST only when complete; on
// failure the partial tree is removed. DEST must not exist.
//
// Reuse: given the rootfs of an image whose layers the new one extends, or repeats but for its
// top layer, the new tree starts as a hardlink copy of that rootfs (cp -a --link: no object is
// looked up again) and only the new layers are checked out onto it. A replaced top layer is
// only reused when the old top layer's tree is contained in the new one's (`ostree diff`
// lists nothing deleted and no directory's metadata changed): the old top layer's files are
// then all overwritten, its whiteouts and opaque directories are the new one's too, so the
// result is what a checkout of every layer gives. Anything else is checked out in full.
//
// Safety: `ostree checkout --union` follows a symlink already in the destination when a later
// layer has a directory at that path, so a layer `evil -> /etc` followed by a layer with
// `evil/x` (or `evil/.wh.passwd`) would write (or delete) outside the rootfs. Before each
// layer after the first, every directory the layer writes into that is a symlink in the tree
// fails the checkout (ELAYER) before anything is written. Only paths that were leaves of an
// earlier layer can be symlinks, so only those are looked at (one `ls -R` per layer).
import { chmod, lstat, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { shortDigest } from '../../common/digest.js';
import { SyscontainerError } from '../../common/errors.js';
import { pathExists } from '../../common/path-exists.js';
import { removeTree } from '../../common/remove-tree.js';
import type { OstreeRepo } from '../ostree/ostree-repo.js';
import { linkTree, unlinkedEntries } from './link-tree.js';

/**
 * What a checkout needs of an image: its name (for messages) and its layers' commits, in
 * order. A commit may still be on its way (a pull importing it): each layer is checked out as
 * soon as it and those below it are stored, and a rejected commit fails the checkout.
 */
export interface CheckoutSource {
  name: string;
  layers: ReadonlyArray<{ digest: string; commit: string | Promise<string> }>;
}

/** A rootfs already made that a checkout may start from: its directory (kept as it is while the checkout runs) and its image's layers. */
export interface CheckoutBase {
  dir: string;
  layers: ReadonlyArray<{ digest: string; commit: string }>;
}

/** What a checkout needs of the store: the repository's listing and checkout, and the ownership mode. */
export interface CheckoutRepo {
  repo: Pick<OstreeRepo, 'listPaths' | 'listDir' | 'entryTypes' | 'checkout' | 'diff'>;
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
async function assertNoSymlinkTraversal(repo: CheckoutRepo['repo'], commit: string, shape: LayerShape, earlierLeaves: ReadonlySet<string> | 'unknown', tree: Buffer, what: string): Promise<void> {
  const display = (path: string): string => Buffer.from(path, 'latin1').toString();
  // A tree copied from another rootfs: its leaves are not listed, so every path is looked at.
  const earlier = (path: string): boolean => earlierLeaves === 'unknown' || earlierLeaves.has(path);
  const writtenInto = [...shape.parents].filter(earlier);
  const linkedDir = (await symlinksAmong(tree, writtenInto))[0];
  if (linkedDir !== undefined) throw traversal(what, display(linkedDir));
  const linkedLeaves = await symlinksAmong(tree, shape.leaves.filter(earlier));
  if (linkedLeaves.length === 0) return;
  for (const [path, type] of await repo.entryTypes(commit, linkedLeaves)) {
    if (type === 'directory') throw traversal(what, display(path));
  }
}

/** By digests alone: base's layer count when the image extends them, one less when only the top differs, else undefined. Pure. */
function layersSharedWith(base: CheckoutBase, image: CheckoutSource): number | undefined {
  const count = base.layers.length;
  if (count === 0 || base.layers.some((layer) => layer.commit === '')) return undefined;
  let shared = 0;
  while (shared < count && shared < image.layers.length && base.layers[shared]!.digest === image.layers[shared]!.digest) shared++;
  if (shared === count && image.layers.length > count) return count;
  return shared === count - 1 && image.layers.length === count ? shared : undefined;
}

/**
 * How many of `image`'s layers a copy of `base` already holds: all of base's when the image
 * extends it, all but the top when only the top differs and the old top's tree is contained in
 * the new one's (see header comment); undefined when a copy cannot be used. Waits for the new
 * top layer's commit in the second case.
 */
async function layersHeldBy(repo: CheckoutRepo['repo'], base: CheckoutBase, image: CheckoutSource): Promise<number | undefined> {
  const shared = layersSharedWith(base, image);
  if (shared === undefined || shared === base.layers.length) return shared;
  const top = await image.layers[shared]!.commit;
  if (top === '') return undefined;
  const changes = await repo.diff(base.layers[shared]!.commit, top);
  if (changes.some((change) => change.change === 'D')) return undefined;
  const modified = changes.filter((change) => change.change === 'M').map((change) => change.path);
  if (modified.length === 0) return shared;
  const types = await repo.entryTypes(top, modified);
  return [...types.values()].some((type) => type === 'directory') ? undefined : shared;
}

/**
 * What a copy of `base.dir` holds that none of base's layers has: entries made in the rootfs
 * after its checkout (runc makes the mount points a container lacks). They go from the copy,
 * so the new tree holds only what its layers give, as a full checkout would. `candidates`:
 * unlinkedEntries of base.dir, taken before the copy links every file once more.
 */
async function addedSinceCheckout(repo: CheckoutRepo['repo'], base: CheckoutBase, candidates: readonly string[]): Promise<string[]> {
  const parents = [...new Set(candidates.map((path) => posix.dirname(path)))];
  const names = new Map<string, Set<string>>(parents.map((parent) => [parent, new Set<string>()]));
  await Promise.all(
    base.layers.flatMap((layer) =>
      parents.map(async (parent) => {
        const listed = await repo.listDir(layer.commit, parent === '.' ? '/' : `/${Buffer.from(parent, 'latin1').toString('utf8')}`);
        for (const name of listed ?? []) names.get(parent)!.add(Buffer.from(name, 'utf8').toString('latin1'));
      }),
    ),
  );
  return candidates.filter((path) => !names.get(posix.dirname(path))!.has(posix.basename(path)));
}

/**
 * Checks out `image` into `dest` (which must not exist: EEXIST). All-or-nothing: on error no
 * `dest` and no temporary directory remain. `dest`'s parent must exist and be on the
 * repository's filesystem (hardlinks). With `base`, starts from a hardlink copy of that rootfs
 * when it holds a prefix of the image (see header comment); the caller keeps `base.dir` as it is
 * meanwhile.
 */
export async function checkoutImage(store: CheckoutRepo, image: CheckoutSource, dest: string, base?: CheckoutBase): Promise<void> {
  if (await pathExists(dest)) throw new SyscontainerError('EEXIST', `checkout of image ${image.name}: ${dest} already exists`);
  const notStored = (digest: string) =>
    new SyscontainerError('ENOTFOUND', `image ${image.name}: layer ${shortDigest(digest)} is not stored`, { hint: 'pull the image again' });
  const missing = image.layers.find((layer) => layer.commit === '');
  if (missing) throw notStored(missing.digest);
  const userMode = await store.checkoutUserMode();
  let tmp = await mkdtemp(`${dest}.tmp-`);
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
    let first = 0;
    let reused = false;
    // Nothing is copied for an image whose lower layers differ (a rebuilt base layer).
    if (base !== undefined && layersSharedWith(base, image) !== undefined) {
      // The copy runs while the new layers are still imported and compared.
      // Looked for before the copy, which adds a link to every file.
      const candidates = await unlinkedEntries(base.dir).catch(() => undefined);
      const copied = linkTree(base.dir, tmp);
      copied.catch(() => undefined);
      const added = candidates === undefined ? Promise.reject(new Error('not listed')) : addedSinceCheckout(store.repo, base, candidates);
      added.catch(() => undefined);
      // The layers a copy lacks are listed as soon as they are stored, beside the comparison.
      for (let index = image.layers.length > base.layers.length ? base.layers.length : image.layers.length - 1; index < image.layers.length; index++) void listing(index);
      const held = await layersHeldBy(store.repo, base, image).catch(() => undefined);
      // A copy that failed (the base went meanwhile, a full disk) falls back to the whole checkout.
      const copyMade = await copied.then(() => true, () => false);
      const extra = await added.catch(() => undefined);
      if (held !== undefined && copyMade && extra !== undefined) {
        for (const path of extra) await rm(Buffer.concat([Buffer.from(`${tmp}/`), Buffer.from(path, 'latin1')]), { recursive: true, force: true });
        first = held;
        reused = true;
      } else {
        await removeTree(tmp);
        tmp = await mkdtemp(`${dest}.tmp-`);
        await chmod(tmp, 0o755);
      }
    }
    const last = image.layers.length - 1;
    const treeBytes = Buffer.from(tmp);
    // A copied tree's leaves are not listed: every path of the layers put onto it is looked at.
    const earlierLeaves: Set<string> | 'unknown' = reused ? 'unknown' : new Set<string>();
    for (let index = first; index <= last; index++) {
      const layer = image.layers[index]!;
      const what = `image ${image.name}: layer ${index + 1} (${shortDigest(layer.digest)})`;
      const commit = await layer.commit;
      if (commit === '') throw notStored(layer.digest);
      let shape: LayerShape | undefined;
      if (index > 0 || reused) {
        shape = layerShape(await listing(index));
        await assertNoSymlinkTraversal(store.repo, commit, shape, earlierLeaves, treeBytes, what);
      }
      const checkout = store.repo.checkout(commit, tmp, { union: true, whiteouts: true, requireHardlinks: true, userMode });
      if (index < last) {
        if (earlierLeaves !== 'unknown') void listing(index);
        void listing(index + 1);
      }
      await checkout;
      if (index < last && earlierLeaves !== 'unknown') {
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
