// One read-only rootfs per image, shared by every deployment of it.
//
// A checkout's files are hardlinks into the repository, but its directories cannot be: a
// checkout of a 20,000-file image is ~300 directories, over a megabyte. So the rootfs belongs
// to the image, as podman's unpacked layers do: it is made when the image is pulled (or, for
// an image stored before, at its first install) in ROOT/.storage/rootfs/<config hex>, and
// deployments point config.json's root.path at it. Containers mount it read-only, so sharing
// it is safe. An update's pull names the image the container runs (`base`): when the new image
// extends its layers or replaces only its top layer, the new rootfs starts as a hardlink copy
// of that one's (checkout.ts) instead of checking every layer out again.
//
// It goes when its image is no longer stored and no deployment uses it: `images delete` and
// `images prune` ask, and so does the runtime when a deployment that used it is removed.
// Every change to one rootfs holds its lock (ROOT/.storage/locks/rootfs-<hex>). Making or
// linking one also holds the store lock shared, and prune holds it exclusively: prune never
// removes objects being hardlinked out, nor the rootfs of an image whose pull is under way.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkoutImage, isCheckoutTemp, type CheckoutBase, type CheckoutRepo, type CheckoutSource } from './checkout.js';
import { SyscontainerError } from '../../common/errors.js';
import { withLock } from '../../common/file-lock.js';
import { storeLockDir } from '../store-locks.js';
import { digestPattern } from '../oci/oci-types.js';
import { pathExists } from '../../common/path-exists.js';
import { removeTree } from '../../common/remove-tree.js';

/** What a rootfs is made from: the image's name (for messages), config digest and layer commits. */
export interface RootfsSource extends CheckoutSource {
  configDigest: string;
}

/**
 * What the rootfs needs of the image store that owns it: the store's root, whether an image id
 * is still stored, and what a checkout needs. ImageStore is one; the rootfs never imports it.
 */
export interface RootfsStore extends CheckoutRepo {
  readonly root: string;
  /** How long its locks wait for another holder (default: the lock's). */
  readonly lockWaitMs?: number | undefined;
  hasImageId(configDigest: string): Promise<boolean>;
}

/** Whether some deployment still uses the rootfs at `dir` (asked with its lock held). */
export type RootfsInUse = (dir: string) => Promise<boolean>;

function imageRootfsParent(root: string): string {
  return join(root, '.storage', 'rootfs');
}

/** ROOT/.storage/rootfs/<hex> for config digest sha256:<hex>. */
export function imageRootfsDir(root: string, configDigest: string): string {
  if (!digestPattern.test(configDigest) || !configDigest.startsWith('sha256:')) {
    throw new SyscontainerError('EINVAL', `not an image id: ${JSON.stringify(configDigest)}`);
  }
  return join(imageRootfsParent(root), configDigest.slice('sha256:'.length));
}

function rootfsLockDir(root: string, configDigest: string): string {
  return join(root, '.storage', 'locks', `rootfs-${configDigest.slice('sha256:'.length)}`);
}

function withRootfsLock<T>(store: RootfsStore, image: { name: string; configDigest: string }, body: () => Promise<T>, onWait?: (message: string) => void): Promise<T> {
  return withLock(rootfsLockDir(store.root, image.configDigest), { mode: 'exclusive', what: `rootfs of image ${image.name}`, waitMs: store.lockWaitMs, ...(onWait ? { onWait } : {}) }, body);
}

/** A stored image whose rootfs a new one may start from (checkout.ts: a hardlink copy and the layers it lacks). */
export interface RootfsBase {
  configDigest: string;
  layers: CheckoutBase['layers'];
}

/**
 * Checks `image` out into `dir`, from a copy of `base`'s rootfs when there is one (held under
 * its lock meanwhile, so no release removes it half-way; locks are taken store, new rootfs,
 * base rootfs, and only here are two rootfs locks held).
 */
async function makeRootfs(store: RootfsStore, image: RootfsSource, dir: string, base: RootfsBase | undefined, onWait?: (message: string) => void): Promise<void> {
  if (base === undefined || base.configDigest === image.configDigest) return checkoutImage(store, image, dir);
  const baseDir = imageRootfsDir(store.root, base.configDigest);
  if (!(await pathExists(baseDir))) return checkoutImage(store, image, dir);
  return withRootfsLock(store, { name: base.configDigest, configDigest: base.configDigest }, async () =>
    checkoutImage(store, image, dir, (await pathExists(baseDir)) ? { dir: baseDir, layers: base.layers } : undefined),
  onWait);
}

/**
 * Runs `body` with the image's rootfs directory, making it first when missing. The rootfs is
 * locked while `body` runs, so a deployment can link it before anyone may judge it unused.
 * All-or-nothing: a failed checkout leaves no directory (see checkoutImage); the temporary
 * directory of one killed half-way is removed here.
 */
export async function withImageRootfs<T>(store: RootfsStore, image: RootfsSource, body: (dir: string) => Promise<T>, onWait?: (message: string) => void, base?: RootfsBase): Promise<T> {
  const dir = imageRootfsDir(store.root, image.configDigest);
  // Locks in one order everywhere, store then rootfs (prune takes them so too): no deadlock.
  return withLock(storeLockDir(store.root), { mode: 'shared', what: 'image store', waitMs: store.lockWaitMs, ...(onWait ? { onWait } : {}) }, () =>
    withRootfsLock(
      store,
      image,
      async () => {
        if (!(await pathExists(dir))) {
          await mkdir(imageRootfsParent(store.root), { recursive: true, mode: 0o700 });
          await removeStaleTemps(dir);
          await makeRootfs(store, image, dir, base, onWait);
        }
        return body(dir);
      },
      onWait,
    ),
  );
}

/** Makes the image's rootfs when missing (from `base`'s when it can); returns its directory. */
export function ensureImageRootfs(store: RootfsStore, image: RootfsSource, onWait?: (message: string) => void, base?: RootfsBase): Promise<string> {
  return withImageRootfs(store, image, async (dir) => dir, onWait, base);
}

/**
 * Removes the rootfs of image id `configDigest` when no stored image has that id and `inUse`
 * says no deployment uses it. Returns whether it was removed. Idempotent.
 */
export async function releaseImageRootfs(store: RootfsStore, configDigest: string, inUse: RootfsInUse): Promise<boolean> {
  const dir = imageRootfsDir(store.root, configDigest);
  if (!(await pathExists(dir))) return false;
  return withRootfsLock(store, { name: configDigest, configDigest }, async () => {
    if (await store.hasImageId(configDigest)) return false;
    if (await inUse(dir)) return false;
    await removeTree(dir);
    return true;
  });
}

/**
 * Removes every rootfs whose image is no longer stored and that no deployment uses, and the
 * leftovers of checkouts killed half-way. Returns the image ids whose rootfs went. Call it
 * holding the store lock exclusively (ImageStore.prune does).
 */
export async function pruneImageRootfs(store: RootfsStore, inUse: RootfsInUse): Promise<string[]> {
  const parent = imageRootfsParent(store.root);
  const removed: string[] = [];
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    if (!/^[a-f0-9]{64}$/.test(entry)) continue;
    const configDigest = `sha256:${entry}`;
    if (await releaseImageRootfs(store, configDigest, inUse)) removed.push(configDigest);
  }
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const id = /^([a-f0-9]{64})\.tmp-/.exec(entry)?.[1];
    if (id === undefined) continue;
    // A checkout in progress holds its rootfs lock: only a temp nobody is writing goes.
    await withRootfsLock(store, { name: `sha256:${id}`, configDigest: `sha256:${id}` }, () => removeTree(join(parent, entry)));
  }
  return removed;
}

/** Removes temporary checkout directories of `dir` left by a killed command (its lock is held). */
async function removeStaleTemps(dir: string): Promise<void> {
  const parent = join(dir, '..');
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const candidate = join(parent, entry);
    if (isCheckoutTemp(dir, candidate)) await removeTree(candidate);
  }
}
