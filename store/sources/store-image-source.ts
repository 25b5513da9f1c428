// An ImageSource over an image of our own store, for push. The store keeps layers as unpacked
// OSTree trees, not the blobs they came from, so the blobs are made again: each layer commit
// is exported as a tar (`ostree export`; whiteouts are plain `.wh.*` files in the commit, so
// the tar is a valid OCI layer), gzipped, and hashed on the way (diff_id of the tar, digest
// and size of the gzip) into a temporary file. The config gets the new diff_ids (nothing else
// changes) and the manifest the new layer descriptors, in the media-type family (OCI or
// Docker) of the stored manifest. So a pushed store image has new layer, config and manifest
// digests, as with `podman push` of a storage image. The same stored image gives the same
// bytes every time (export and gzip are deterministic), so pushing it again uploads nothing.
//
// No layer is held in memory: the temporary files live under ROOT/.storage/tmp (same
// filesystem as the store, not a small tmpfs) and are removed by close().
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { mapBounded } from '../../common/bounded-map.js';
import { inContext, IntegrityError, SyscontainerError } from '../../common/errors.js';
import { Meter } from '../../common/metering.js';
import type { FetchedManifest, ImageSource } from './image-source.js';
import type { ImageStore, StoredImage } from '../image-store.js';
import { type Descriptor, digestPattern, imageConfigSchema, limits, MediaType, parseJson } from '../oci/oci-types.js';
import { blobRef } from '../ref-names.js';
import { verifiedBlobStream } from '../content/verified-blob.js';
import { sha256Digest, shortDigest } from '../../common/digest.js';

export interface RegeneratedLayer {
  /** The layer's digest in the stored manifest. */
  storedDigest: string;
  /** The new gzip blob. */
  descriptor: Descriptor;
  /** sha256 of the exported tar. */
  diffId: string;
  uncompressedSize: number;
}

export type StoreSourceEvent = { type: 'layer-regenerated'; index: number; layers: number } & RegeneratedLayer;

export interface StoreImageSourceOptions {
  /** Layers exported at once. Default 2 (gzip is CPU-bound). */
  concurrency?: number;
  onEvent?: (event: StoreSourceEvent) => void;
}

/**
 * Create with `StoreImageSource.open` (which regenerates every layer before it returns); call
 * `close()` when done, also after a failed push. Serves one manifest: ask for it with '' or
 * its digest (`manifestDigest`).
 */
export class StoreImageSource implements ImageSource {
  readonly description: string;
  readonly manifestDigest: string;
  readonly manifestMediaType: string;
  readonly manifestBytes: Buffer;
  readonly configDescriptor: Descriptor;
  readonly layers: readonly RegeneratedLayer[];
  readonly #configBytes: Buffer;
  readonly #files: ReadonlyMap<string, string>;
  readonly #tempDir: string;

  private constructor(fields: {
    description: string;
    manifestBytes: Buffer;
    manifestMediaType: string;
    configDescriptor: Descriptor;
    configBytes: Buffer;
    layers: RegeneratedLayer[];
    files: Map<string, string>;
    tempDir: string;
  }) {
    this.description = fields.description;
    this.manifestBytes = fields.manifestBytes;
    this.manifestDigest = sha256Digest(fields.manifestBytes);
    this.manifestMediaType = fields.manifestMediaType;
    this.configDescriptor = fields.configDescriptor;
    this.#configBytes = fields.configBytes;
    this.layers = fields.layers;
    this.#files = fields.files;
    this.#tempDir = fields.tempDir;
  }

  /**
   * Regenerates the blobs of `image` (as returned by store.getImage). Throws ENOTFOUND when a
   * layer or the config is missing from the store, EINTEGRITY when the stored config does not
   * match its digest. On failure the temporary files are already removed.
   */
  static async open(store: ImageStore, image: StoredImage, options: StoreImageSourceOptions = {}): Promise<StoreImageSource> {
    const what = `image ${image.name}`;
    const tmpRoot = join(store.root, '.storage', 'tmp');
    await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
    const tempDir = await mkdtemp(join(tmpRoot, 'push-'));
    try {
      return await StoreImageSource.#prepare(store, image, tempDir, options);
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw inContext(error, what);
    }
  }

  static async #prepare(store: ImageStore, image: StoredImage, tempDir: string, options: StoreImageSourceOptions): Promise<StoreImageSource> {
    const what = `image ${image.name}`;
    const stored = image.manifest;
    if (image.config.rootfs.diff_ids.length !== stored.layers.length) {
      throw new SyscontainerError('EMANIFEST', `${what}: manifest has ${stored.layers.length} layers, config lists ${image.config.rootfs.diff_ids.length} diff_ids`);
    }
    for (const layer of image.layers) {
      if (layer.commit === '') {
        throw new SyscontainerError('ENOTFOUND', `${what}: layer ${shortDigest(layer.digest)} is not stored`, { hint: 'pull the image again' });
      }
    }
    const rawConfig = await readStoredConfig(store, image);

    const docker =
      stored.mediaType === MediaType.dockerManifest || (stored.mediaType === undefined && stored.config.mediaType === MediaType.dockerConfig);
    const layerMediaType = docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip;
    // One export per stored layer, even when the manifest lists it twice.
    const unique = [...new Map(image.layers.map((layer) => [layer.digest, layer])).values()];
    const regenerated = new Map<string, RegeneratedLayer>();
    const files = new Map<string, string>();
    let done = 0;
    await mapBounded(unique, options.concurrency ?? 2, async (layer, index) => {
      const file = join(tempDir, `layer-${index}.tar.gz`);
      const tarMeter = new Meter();
      const gzipMeter = new Meter();
      await pipeline(store.repo.exportTar(layer.commit), tarMeter, createGzip(), gzipMeter, createWriteStream(file, { flags: 'wx', mode: 0o600 })).catch(
        (error: unknown) => {
          throw inContext(error, `layer ${shortDigest(layer.digest)}`);
        },
      );
      const result: RegeneratedLayer = {
        storedDigest: layer.digest,
        descriptor: { mediaType: layerMediaType, digest: gzipMeter.digest(), size: gzipMeter.bytes },
        diffId: tarMeter.digest(),
        uncompressedSize: tarMeter.bytes,
      };
      regenerated.set(layer.digest, result);
      files.set(gzipMeter.digest(), file);
      done++;
      options.onEvent?.({ type: 'layer-regenerated', index: done, layers: unique.length, ...result });
    });
    const layers = stored.layers.map((descriptor) => regenerated.get(descriptor.digest) as RegeneratedLayer);

    const rootfs = (rawConfig.rootfs ?? {}) as Record<string, unknown>;
    const configBytes = Buffer.from(JSON.stringify({ ...rawConfig, rootfs: { ...rootfs, diff_ids: layers.map((layer) => layer.diffId) } }));
    if (configBytes.length > limits.configBytes) {
      throw new SyscontainerError('ELIMIT', `${what}: new config of ${configBytes.length} bytes exceeds ${limits.configBytes}`);
    }
    const configDescriptor: Descriptor = { mediaType: stored.config.mediaType, digest: sha256Digest(configBytes), size: configBytes.length };

    const manifestMediaType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
    const manifest: Record<string, unknown> = { schemaVersion: 2 };
    if (docker || stored.mediaType !== undefined) manifest.mediaType = manifestMediaType;
    manifest.config = configDescriptor;
    manifest.layers = stored.layers.map((descriptor, index) => ({
      ...layers[index]!.descriptor,
      ...(descriptor.annotations !== undefined ? { annotations: descriptor.annotations } : {}),
    }));
    if (stored.annotations !== undefined) manifest.annotations = stored.annotations;
    const manifestBytes = Buffer.from(JSON.stringify(manifest));

    return new StoreImageSource({
      description: image.name,
      manifestBytes,
      manifestMediaType,
      configDescriptor,
      configBytes,
      layers,
      files,
      tempDir,
    });
  }

  /** Removes the regenerated layer files. Idempotent. */
  async close(): Promise<void> {
    await rm(this.#tempDir, { recursive: true, force: true });
  }

  /** The regenerated manifest, for '' or its digest; ENOTFOUND for anything else. */
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    if (reference !== '' && reference !== this.manifestDigest) {
      throw new SyscontainerError('ENOTFOUND', `${this.description}: no manifest ${reference} (this image has only ${this.manifestDigest})`);
    }
    return { bytes: this.manifestBytes, mediaType: this.manifestMediaType, digest: this.manifestDigest };
  }

  /** The new config or a regenerated layer, verified while it streams. */
  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const what = `${this.description}: blob ${shortDigest(descriptor.digest)}`;
    if (descriptor.digest === this.configDescriptor.digest) {
      return verifiedBlobStream(Readable.from([this.#configBytes]), descriptor, what);
    }
    const file = this.#files.get(descriptor.digest);
    if (file === undefined) throw new SyscontainerError('ENOTFOUND', `${what}: not a blob of this image`);
    return verifiedBlobStream(createReadStream(file), descriptor, what);
  }
}

/** The stored config's raw JSON object (every field, also those our schema does not know), checked against its digest. */
async function readStoredConfig(store: ImageStore, image: StoredImage): Promise<Record<string, unknown>> {
  const what = `config ${shortDigest(image.configDigest)}`;
  if (!digestPattern.test(image.configDigest)) throw new SyscontainerError('EMANIFEST', `${what}: not a sha256 digest`);
  const commit = await store.repo.resolveRef(blobRef(image.configDigest));
  if (commit === undefined) throw new SyscontainerError('ENOTFOUND', `${what} is not stored`);
  const bytes = await store.repo.readFile(commit, '/content', limits.configBytes);
  const found = sha256Digest(bytes);
  if (found !== image.configDigest) throw new IntegrityError(`${what} digest`, image.configDigest, found);
  parseJson(imageConfigSchema, bytes, what);
  const raw: unknown = JSON.parse(bytes.toString('utf8'));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SyscontainerError('EMANIFEST', `${what} is not a JSON object`);
  return raw as Record<string, unknown>;
}
