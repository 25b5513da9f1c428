// pull: reference → source → resolved, validated manifest → verified layer streams → store.
// The image ref is written last, only after every layer and the config are stored and
// checked, so an interrupted pull never leaves an image ref to incomplete content.
import type { ImageSource } from '../sources/image-source.js';
import type { ImageStore } from '../image-store.js';
import type { Platform } from '../oci/oci-types.js';
import { mapBounded } from '../../common/bounded-map.js';
import { inContext } from '../../common/errors.js';
import { ensureImageRootfs, imageRootfsDir } from '../content/image-rootfs.js';
import { pathExists } from '../../common/path-exists.js';
import { isStagingRace } from '../ostree/ostree-repo.js';
import { withLock } from '../../common/file-lock.js';
import { imageLockDir, storeLockDir } from '../store-locks.js';
import { resolveImage } from './resolve-manifest.js';
import type { TrustCheck, TrustRecord } from '../trust/pull-trust.js';

export type PullEvent =
  | { type: 'resolved'; image: string; manifestDigest: string; layers: number }
  | { type: 'layer-present'; digest: string; size: number }
  | { type: 'layer-progress'; digest: string; size: number; received: number }
  | { type: 'layer-stored'; digest: string; size: number }
  /** The signature policy admitted the image (only when a policy exists). */
  | { type: 'verified'; image: string; record: TrustRecord }
  | { type: 'stored'; image: string; manifestDigest: string }
  /** Another syscontainer holds a lock this pull needs; it waits (bounded). */
  | { type: 'waiting'; message: string };

export interface PullOptions {
  platform?: Platform | undefined;
  /** Layers fetched and imported at once. The store's write path is CPU-bound, so a few. */
  concurrency?: number;
  onEvent?: (event: PullEvent) => void;
  /** ELIMIT for a layer whose tar is larger (default: layer-import's defaultMaxUncompressedBytes). */
  maxUncompressedBytes?: number;
  /**
   * The signature policy's check, run on the resolved image before anything is stored (no
   * layer, no rootfs, no ref for a refused image). Absent: nothing is verified.
   */
  trust?: TrustCheck | undefined;
  /**
   * A stored image (name or id) whose rootfs the new image's may start from: the image a
   * container runs when it is updated. Used when the new image extends its layers or replaces
   * only its top layer (store/content/checkout.ts); else ignored.
   */
  rootfsBase?: string | undefined;
}

export interface PullResult {
  /** The name the image is stored under: REGISTRY/REPO:TAG. */
  name: string;
  manifestDigest: string;
  configDigest: string;
  layersFetched: number;
  layersPresent: number;
  /** What the signature policy verified (absent when no policy exists). */
  trust?: TrustRecord;
}

/**
 * Stores the image `reference` (tag or digest) of `source` under `name`.
 * Idempotent: layers and config already in the store are not fetched again.
 */
export async function pullFromSource(
  store: ImageStore,
  source: ImageSource,
  reference: string,
  name: string,
  options: PullOptions = {},
): Promise<PullResult> {
  try {
    // Shared store lock (prune waits), then this image's lock: a second pull of the same
    // image waits for the first and then finds it stored.
    const onWait = (message: string) => options.onEvent?.({ type: 'waiting', message });
    return await withLock(storeLockDir(store.root), { mode: 'shared', what: 'image store', waitMs: store.lockWaitMs, onWait }, () =>
      withLock(imageLockDir(store.root, name), { mode: 'exclusive', what: `image ${name}`, waitMs: store.lockWaitMs, onWait }, () => pullInto(store, source, reference, name, options)),
    );
  } catch (error) {
    throw inContext(error, `image ${name}`);
  }
}

async function pullInto(store: ImageStore, source: ImageSource, reference: string, name: string, options: PullOptions): Promise<PullResult> {
  const emit = options.onEvent ?? (() => {});
  const onWait = (message: string) => emit({ type: 'waiting', message });
  // Looked up while the manifest is fetched; a base that is not stored is no base.
  const base = options.rootfsBase === undefined ? Promise.resolve(undefined) : store.getImage(options.rootfsBase).catch(() => undefined);
  const resolved = await resolveImage(source, reference, options.platform);
  // Signatures sign the top-level manifest: the index when the image came through one (its
  // entry, fetched by digest, binds the manifest that is stored).
  const trust = options.trust ? await options.trust(resolved.indexDigest ?? resolved.manifestDigest) : undefined;
  if (trust) emit({ type: 'verified', image: name, record: trust });
  emit({ type: 'resolved', image: name, manifestDigest: resolved.manifestDigest, layers: resolved.manifest.layers.length });
  const result = { name, manifestDigest: resolved.manifestDigest, configDigest: resolved.configDigest, ...(trust ? { trust } : {}) };
  if ((await store.storedManifestDigest(name)) === resolved.manifestDigest) {
    for (const layer of resolved.manifest.layers) emit({ type: 'layer-present', digest: layer.digest, size: layer.size });
    // The same image verified anew (a policy added or changed since): its record follows.
    if (trust && !(await store.hasTrustRecord(name, trust))) await store.writeImage(name, resolved.manifestBytes, resolved.manifestDigest, trust);
    // An image stored before rootfs were made at pull (or whose rootfs was removed) gets one.
    if (!(await pathExists(imageRootfsDir(store.root, resolved.configDigest)))) {
      const stored = await store.getImage(name);
      if (stored !== undefined) await ensureImageRootfs(store, stored, onWait);
    }
    return { ...result, layersFetched: 0, layersPresent: resolved.manifest.layers.length };
  }
  await store.ensure();

  const stats = { fetched: 0, present: 0 };
  // The image's rootfs is checked out while the layers come in, each layer once it and those
  // below it are stored, so the checkout of the first layers overlaps the import of the last.
  // It is made before the image ref: an image that cannot be checked out (a layer writing
  // through an earlier layer's symlink) is refused at pull, and a stored image has its rootfs.
  const commits = resolved.manifest.layers.map(() => settleLater<string>());
  const rootfs = ensureImageRootfs(
    store,
    { name, configDigest: resolved.configDigest, layers: resolved.manifest.layers.map((layer, index) => ({ digest: layer.digest, commit: commits[index]!.promise })) },
    onWait,
    await base,
  );
  rootfs.catch(() => undefined); // awaited below, after the imports
  try {
    await mapBounded(resolved.manifest.layers.map((layer, index) => ({ layer, index })), options.concurrency ?? 3, async ({ layer, index }) => {
      const present = await store.layerCommit(layer.digest);
      if (present !== undefined) {
        stats.present++;
        commits[index]!.resolve(present);
        emit({ type: 'layer-present', digest: layer.digest, size: layer.size });
        return;
      }
      const diffId = resolved.config.rootfs.diff_ids[index] as string;
      const importOnce = async () =>
        store.importLayer(
          layer,
          await source.openBlob(layer),
          diffId,
          (progress) => emit({ type: 'layer-progress', digest: layer.digest, size: layer.size, received: progress.bytes }),
          options.maxUncompressedBytes !== undefined ? { maxUncompressedBytes: options.maxUncompressedBytes } : undefined,
        );
      // ostree commits running side by side can lose their staging directory to each other
      // (isStagingRace); the layer is then fetched and imported once more.
      const imported = await importOnce().catch((error: unknown) => {
        if (!isStagingRace(error)) throw error;
        return importOnce();
      });
      stats.fetched++;
      commits[index]!.resolve(imported.commit);
      emit({ type: 'layer-stored', digest: layer.digest, size: layer.size });
    });
  } catch (error) {
    // The checkout stops at the first layer that did not come, and removes what it made.
    for (const commit of commits) commit.reject(error);
    await rootfs.catch(() => undefined);
    throw error;
  }
  await rootfs;
  await store.writeConfig(resolved.configDigest, resolved.configBytes);
  await store.writeImage(name, resolved.manifestBytes, resolved.manifestDigest, trust);
  emit({ type: 'stored', image: name, manifestDigest: resolved.manifestDigest });
  return { ...result, layersFetched: stats.fetched, layersPresent: stats.present };
}

/** A promise with its resolve and reject at hand; settling it again does nothing. */
function settleLater<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a layer the checkout never reached is not an unhandled rejection
  return { promise, resolve, reject };
}
