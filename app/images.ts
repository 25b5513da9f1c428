// The stored images: list, verify, prune.
import { rootfsInUse } from '../runtime/index.js';
import { SyscontainerError } from '../common/errors.js';
import { formatPlatform, recheckTrust, type PruneReport, type StoredImage, type TrustRecheck, type VerifyReport } from '../store/index.js';
import type { AppContext, OperationEvents } from './context.js';

export interface ImageSummary {
  /** REGISTRY/REPO:TAG */
  name: string;
  /** Image id: the config digest (sha256:…). */
  id: string;
  /** Manifest digest. */
  digest: string;
  /** From the image config; null when it has none. */
  created: string | null;
  /** Sum of the layers' uncompressed sizes, in bytes. */
  size: number;
  /** OS/ARCH[/VARIANT] */
  platform: string;
}

export interface ImageListing {
  images: ImageSummary[];
  /** With `all`: names of image refs whose stored content cannot be read. */
  unreadable: string[];
}

export function platformOf(image: StoredImage): string {
  return formatPlatform({ os: image.config.os, architecture: image.config.architecture, variant: image.config.variant });
}

export async function listImages(app: AppContext, input: { all?: boolean } = {}): Promise<ImageListing> {
  const stored = await app.store.listImages();
  const readable = new Set(stored.map((image) => image.name));
  const unreadable = input.all === true ? (await app.store.imageNames()).filter((name) => !readable.has(name)) : [];
  const images = stored.map((image) => ({
    name: image.name,
    id: image.configDigest,
    digest: image.manifestDigest,
    created: image.created ?? null,
    size: image.size,
    platform: platformOf(image),
  }));
  return { images, unreadable };
}

/** The stored image `name` (name, id or ref); ENOTFOUND, with a hint to pull it, when there is none. */
export async function findImage(app: AppContext, name: string): Promise<StoredImage> {
  const image = await app.store.getImage(name);
  if (!image) throw new SyscontainerError('ENOTFOUND', `image ${name} is not in the store`, { hint: `pull it first: syscontainer pull ${name}` });
  return image;
}

/**
 * Re-checks the image's stored content against its digests (and ostree fsck), and its
 * signatures against today's policy. Faults are in the results, not thrown.
 */
export async function verifyImage(app: AppContext, input: { image: string }): Promise<{ report: VerifyReport; trust: TrustRecheck }> {
  const image = await findImage(app, input.image);
  return { report: await app.store.verifyImage(image.name), trust: await recheckTrust(image, app.settings) };
}

/** Removes content no image and no installed container uses (under the store's exclusive lock). */
export function pruneImages(app: AppContext, events: OperationEvents = {}): Promise<PruneReport> {
  return app.store.prune({ rootfsInUse: rootfsInUse(app.settings.root), ...(events.log ? { onWait: events.log } : {}) });
}
