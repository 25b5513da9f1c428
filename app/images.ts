// The stored images: list, tag, verify, prune.
import { rootfsInUse } from '../runtime/index.js';
import { SyscontainerError } from '../common/errors.js';
import { formatPlatform, recheckTrust, type PruneReport, type StoredImage, type TrustRecheck, type VerifyReport } from '../store/index.js';
import type { AppContext, OperationEvents } from './context.js';
import { installedContainers } from './installed.js';
import { listFilter } from './list-filters.js';

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
  /** With `all`: the stored layers no listed image has as its config (atomic's `<none>` rows), by digest. */
  layers: string[];
  /** Ids of the images an installed container runs (atomic's `>` marker). */
  inUse: string[];
}

export function platformOf(image: StoredImage): string {
  return formatPlatform({ os: image.config.os, architecture: image.config.architecture, variant: image.config.variant });
}

/** What `--filter KEY=VALUE` of the image listing matches (as atomic's `images list -f`). */
export const imageFilterKeys = ['repo', 'tag', 'id', 'digest', 'created', 'platform'] as const;

/** REGISTRY/REPO:TAG → [REGISTRY/REPO, TAG]; digest-only names get TAG "<none>". Pure. */
export function splitImageName(name: string): [string, string] {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return [base.slice(0, colon), base.slice(colon + 1)];
  return [base, '<none>'];
}

export async function listImages(app: AppContext, input: { all?: boolean; filters?: readonly string[] } = {}): Promise<ImageListing> {
  const matches = listFilter(input.filters ?? [], imageFilterKeys);
  const stored = await app.store.listImages();
  const readable = new Set(stored.map((image) => image.name));
  const unreadable = input.all === true ? (await app.store.imageNames()).filter((name) => !readable.has(name)) : [];
  const images = stored
    .map((image) => ({
      name: image.name,
      id: image.configDigest,
      digest: image.manifestDigest,
      created: image.created ?? null,
      size: image.size,
      platform: platformOf(image),
    }))
    .filter((image) => {
      const [repo, tag] = splitImageName(image.name);
      return matches({ repo, tag, id: image.id, digest: image.digest, created: image.created ?? '', platform: image.platform });
    });
  const configs = new Set(stored.map((image) => image.configDigest));
  const layers = input.all === true && (input.filters ?? []).length === 0 ? (await app.store.blobDigests()).filter((digest) => !configs.has(digest)) : [];
  const inUse = [...new Set((await installedContainers(app)).map(({ info }) => info.imageId))];
  return { images, unreadable, layers, inUse };
}

/** The stored image `name` (name, id or ref); ENOTFOUND, with a hint to pull it, when there is none. */
export async function findImage(app: AppContext, name: string): Promise<StoredImage> {
  const image = await app.store.getImage(name);
  if (!image) throw new SyscontainerError('ENOTFOUND', `image ${name} is not in the store`, { hint: `pull it first: syscontainer pull ${name}` });
  return image;
}

/**
 * Gives the stored image `source` (name, id or ref) the name `target` too (`images tag`): a
 * second ref to the same content, no copy; a target name in use moves to this image.
 */
export async function tagImage(app: AppContext, input: { source: string; target: string }): Promise<{ source: string; target: string }> {
  await findImage(app, input.source);
  const result = await app.store.tagImage(input.source, input.target);
  return { source: result.source.name, target: result.target };
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
