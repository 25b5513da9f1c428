// Builds OCI (or Docker schema2) images from small, data-like definitions: layers from
// entries, an image config, a manifest; and indexes over several platforms.
// Deterministic: the same definition (and the same host files it reads) gives the same
// bytes and digests — fixed timestamps, fixed key order, no randomness.
import { createHash } from 'node:crypto';
import { SyscontainerError } from '../../common/errors.js';
import {
  type Compression,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MediaType,
  type Platform,
} from '../../store/oci/oci-types.js';
import { buildLayer, type LayerEntry } from './layer.js';

export type ImageFormat = 'oci' | 'docker';

export interface LayerDefinition {
  /** The files of the layer, in tar order (see layer.ts: whiteout() and opaque() make those entries). */
  entries: readonly LayerEntry[];
  /** Default gzip. Docker-format images allow gzip only. */
  compression?: Compression;
  /** Recorded as the history entry's created_by, like a Dockerfile step. */
  createdBy?: string;
}

/** The runtime defaults of the image config (the `config` object of the OCI config). */
export type ContainerConfig = {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Docker's health check: Test (CMD, CMD-SHELL or NONE) and durations in nanoseconds. */
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
};

export interface ImageDefinition {
  /** Media types to use; default 'oci'. */
  format?: ImageFormat;
  /** Default linux/amd64. */
  platform?: Platform;
  config?: ContainerConfig;
  layers: LayerDefinition[];
  /** RFC 3339; default the epoch, so builds are reproducible. */
  created?: string;
  author?: string;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
}

export interface BuiltLayer {
  descriptor: Descriptor;
  bytes: Buffer;
  /** sha256 of the uncompressed tar. */
  diffId: string;
}

export interface BuiltImage {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  /** Descriptor of the manifest, for an index or an OCI layout's index.json. */
  manifestDescriptor: Descriptor;
  config: ImageConfig;
  configBytes: Buffer;
  configDigest: string;
  layers: BuiltLayer[];
  platform: Platform;
}

export interface BuiltIndex {
  index: ImageIndex;
  indexBytes: Buffer;
  indexDigest: string;
  indexMediaType: string;
  indexDescriptor: Descriptor;
  /** The child images, in index order. */
  images: BuiltImage[];
}

export const epoch = '1970-01-01T00:00:00Z';

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function layerMediaType(format: ImageFormat, compression: Compression): string {
  if (format === 'docker') {
    if (compression !== 'gzip') {
      throw new SyscontainerError('EINVAL', `docker-format image: ${compression} layers are not supported (gzip only)`);
    }
    return MediaType.dockerLayerGzip;
  }
  switch (compression) {
    case 'none':
      return MediaType.ociLayer;
    case 'gzip':
      return MediaType.ociLayerGzip;
    case 'zstd':
      return MediaType.ociLayerZstd;
  }
}

/** A copy of a string map with sorted keys, so the definition's key order does not matter. */
function sorted<T>(map: Record<string, T> | undefined): Record<string, T> | undefined {
  if (map === undefined) return undefined;
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function containerConfig(config: ContainerConfig | undefined): ContainerConfig | undefined {
  if (config === undefined) return undefined;
  // Fixed key order (the order of docker's own configs), maps sorted, absent keys left out.
  const out: ContainerConfig = {};
  if (config.User !== undefined) out.User = config.User;
  if (config.ExposedPorts !== undefined) out.ExposedPorts = sorted(config.ExposedPorts)!;
  if (config.Env !== undefined) out.Env = [...config.Env];
  if (config.Entrypoint !== undefined) out.Entrypoint = [...config.Entrypoint];
  if (config.Cmd !== undefined) out.Cmd = [...config.Cmd];
  if (config.Healthcheck !== undefined) out.Healthcheck = { ...config.Healthcheck, Test: [...config.Healthcheck.Test] };
  if (config.Volumes !== undefined) out.Volumes = sorted(config.Volumes)!;
  if (config.WorkingDir !== undefined) out.WorkingDir = config.WorkingDir;
  if (config.Labels !== undefined) out.Labels = sorted(config.Labels)!;
  if (config.StopSignal !== undefined) out.StopSignal = config.StopSignal;
  return out;
}

/**
 * Builds the image in memory. Pure apart from what the layer entries read; the same
 * definition gives byte-identical manifest, config and layers.
 */
export async function buildImage(definition: ImageDefinition): Promise<BuiltImage> {
  const format = definition.format ?? 'oci';
  const platform: Platform = definition.platform ?? { architecture: 'amd64', os: 'linux' };
  const created = definition.created ?? epoch;

  const layers: BuiltLayer[] = [];
  for (const layer of definition.layers) {
    const compression = layer.compression ?? 'gzip';
    const mediaType = layerMediaType(format, compression);
    const built = await buildLayer(layer.entries, { compression, flavour: format });
    layers.push({
      descriptor: { mediaType, digest: built.digest, size: built.size },
      bytes: Buffer.from(built.bytes),
      diffId: built.diffId,
    });
  }

  const config: ImageConfig = {
    created,
    ...(definition.author !== undefined ? { author: definition.author } : {}),
    architecture: platform.architecture,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    os: platform.os,
    ...(definition.config !== undefined ? { config: containerConfig(definition.config) } : {}),
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: definition.layers.map((l, i) => ({
      created,
      created_by: l.createdBy ?? `layer ${i + 1}`,
    })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256Digest(configBytes);
  const configMediaType = format === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig;

  const manifestMediaType = format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: configMediaType, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => l.descriptor),
    ...(definition.annotations !== undefined && format === 'oci' ? { annotations: sorted(definition.annotations)! } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256Digest(manifestBytes);
  return {
    manifest,
    manifestBytes,
    manifestDigest,
    manifestMediaType,
    manifestDescriptor: { mediaType: manifestMediaType, digest: manifestDigest, size: manifestBytes.length },
    config,
    configBytes,
    configDigest,
    layers,
    platform,
  };
}

/**
 * An index (OCI) or manifest list (Docker) over built images, each entry carrying the
 * image's platform. Every image must use the index's format; platforms must differ.
 */
export function buildIndex(images: BuiltImage[], format: ImageFormat = 'oci', annotations?: Record<string, string>): BuiltIndex {
  const wanted = format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest;
  const seen = new Set<string>();
  for (const image of images) {
    if (image.manifestMediaType !== wanted) {
      throw new SyscontainerError('EINVAL', `index: image ${image.manifestDigest} is ${image.manifestMediaType}, not ${wanted}`);
    }
    const key = `${image.platform.os}/${image.platform.architecture}/${image.platform.variant ?? ''}`;
    if (seen.has(key)) throw new SyscontainerError('EINVAL', `index: two images for platform ${key}`);
    seen.add(key);
  }
  const indexMediaType = format === 'docker' ? MediaType.dockerManifestList : MediaType.ociIndex;
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: indexMediaType,
    manifests: images.map((image) => ({
      ...image.manifestDescriptor,
      platform: {
        architecture: image.platform.architecture,
        os: image.platform.os,
        ...(image.platform.variant !== undefined ? { variant: image.platform.variant } : {}),
      },
    })),
    ...(annotations !== undefined && format === 'oci' ? { annotations: sorted(annotations)! } : {}),
  };
  const indexBytes = Buffer.from(JSON.stringify(index));
  const indexDigest = sha256Digest(indexBytes);
  return {
    index,
    indexBytes,
    indexDigest,
    indexMediaType,
    indexDescriptor: { mediaType: indexMediaType, digest: indexDigest, size: indexBytes.length },
    images,
  };
}

/** Every blob of a built image or index except manifests: layers and configs, deduplicated. */
export function contentBlobs(built: BuiltImage | BuiltIndex): { descriptor: Descriptor; bytes: Buffer }[] {
  const images = 'images' in built ? built.images : [built];
  const out = new Map<string, { descriptor: Descriptor; bytes: Buffer }>();
  for (const image of images) {
    for (const layer of image.layers) out.set(layer.descriptor.digest, { descriptor: layer.descriptor, bytes: layer.bytes });
    out.set(image.configDigest, { descriptor: image.manifest.config, bytes: image.configBytes });
  }
  return [...out.values()];
}

/** Manifest blobs in the order a registry needs them: children before their index. */
export function manifestBlobs(built: BuiltImage | BuiltIndex): { descriptor: Descriptor; bytes: Buffer }[] {
  if ('images' in built) {
    return [
      ...built.images.map((image) => ({ descriptor: image.manifestDescriptor, bytes: image.manifestBytes })),
      { descriptor: built.indexDescriptor, bytes: built.indexBytes },
    ];
  }
  return [{ descriptor: built.manifestDescriptor, bytes: built.manifestBytes }];
}
