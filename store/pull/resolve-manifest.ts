// From a tag or digest to a validated image: manifest (through an index when there is one,
// choosing the platform), config, and the checks that make the later import safe to start.
// Uses only the ImageSource interface, so registries and OCI layouts resolve the same way.
import { IntegrityError, SyscontainerError } from '../../common/errors.js';
import type { FetchedManifest, ImageSource } from '../sources/image-source.js';
import {
  digestPattern,
  imageConfigSchema,
  indexMediaTypes,
  indexSchema,
  layerCompression,
  limits,
  manifestMediaTypes,
  manifestSchema,
  MediaType,
  parseJson,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from '../oci/oci-types.js';
import { formatPlatform, hostPlatform, normalisePlatform, platformMatches, type Platform } from '../oci/platform.js';
import { readAllBounded } from '../content/verified-blob.js';
import { shortDigest } from '../../common/digest.js';

export interface ResolvedImage {
  manifest: ImageManifest;
  /** The manifest exactly as served; its sha256 is manifestDigest. */
  manifestBytes: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  config: ImageConfig;
  configBytes: Buffer;
  configDigest: string;
  /** Digest of the index the manifest was chosen from, when there was one. */
  indexDigest?: string;
  /** The platform of the chosen index entry (or of the config when there was no index). */
  platform: Platform;
}

const configMediaTypes: readonly string[] = [MediaType.ociConfig, MediaType.dockerConfig];

function unsupportedMediaType(subject: string, mediaType: string, what: string): SyscontainerError {
  return new SyscontainerError('EMANIFEST', `${subject}: unsupported ${what} media type "${mediaType.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}"`);
}

/** The document's own `mediaType` must not contradict the declared one (no type confusion). */
function checkDeclaredType(subject: string, fetched: FetchedManifest, doc: { mediaType?: string | undefined }): void {
  if (doc.mediaType !== undefined && doc.mediaType !== fetched.mediaType) {
    throw new SyscontainerError('EMANIFEST', `${subject}: manifest says mediaType "${doc.mediaType.slice(0, 200)}" but was served as "${fetched.mediaType}"`);
  }
}

/** Index entries that are images (not attestations or other artifacts), with a platform. */
function imageEntries(index: ImageIndex): Descriptor[] {
  return index.manifests.filter(
    (d) => manifestMediaTypes.includes(d.mediaType) && d.platform !== undefined && d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown',
  );
}

/**
 * The entry for `platform`: an exact variant match beats a variant-less one; the first such
 * entry wins (registries list them in preference order).
 */
export function choosePlatformEntry(index: ImageIndex, platform: Platform): Descriptor | undefined {
  const candidates = imageEntries(index).filter((d) => platformMatches(platform, d.platform!));
  const wanted = normalisePlatform(platform);
  return candidates.find((d) => normalisePlatform(d.platform!).variant === wanted.variant) ?? candidates[0];
}

/**
 * Fetches and validates the image `reference` (tag or digest) names in `source`: if it is an
 * index, the entry for `platform` (default: the host's) is fetched by digest. The config is
 * read through openBlob (verified), bounded by limits.configBytes, and checked against the
 * manifest: one diff_id per layer, every layer of a known media type.
 */
export async function resolveImage(source: ImageSource, reference: string, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
  const subject = `image ${source.description}`;
  let fetched = await source.fetchManifest(reference);
  let indexDigest: string | undefined;
  let chosenPlatform: Platform | undefined;

  if (indexMediaTypes.includes(fetched.mediaType)) {
    const index = parseJson(indexSchema, fetched.bytes, `${subject}: index`);
    checkDeclaredType(subject, fetched, index);
    const entry = choosePlatformEntry(index, platform);
    if (entry === undefined) {
      const available = [...new Set(imageEntries(index).map((d) => formatPlatform(d.platform!)))];
      throw new SyscontainerError(
        'ENOTFOUND',
        `${subject}: no manifest for platform ${formatPlatform(normalisePlatform(platform))} (available: ${available.length > 0 ? available.join(', ') : 'none'})`,
        { hint: 'choose one with --platform OS/ARCH[/VARIANT]' },
      );
    }
    if (entry.size > limits.manifestBytes) {
      throw new SyscontainerError('ELIMIT', `${subject}: manifest ${shortDigest(entry.digest)} is larger than ${limits.manifestBytes} bytes (${entry.size})`);
    }
    indexDigest = fetched.digest;
    chosenPlatform = entry.platform;
    fetched = await source.fetchManifest(entry.digest);
    if (fetched.digest !== entry.digest) throw new IntegrityError(`${subject}: manifest digest mismatch`, entry.digest, fetched.digest);
    if (fetched.bytes.length !== entry.size) {
      throw new IntegrityError(`${subject}: manifest ${shortDigest(entry.digest)} size mismatch`, String(entry.size), String(fetched.bytes.length));
    }
    if (indexMediaTypes.includes(fetched.mediaType)) {
      throw new SyscontainerError('EMANIFEST', `${subject}: nested index ${shortDigest(entry.digest)} is not supported`);
    }
    if (fetched.mediaType !== entry.mediaType) {
      throw new SyscontainerError('EMANIFEST', `${subject}: index entry ${shortDigest(entry.digest)} says "${entry.mediaType}" but the manifest is "${fetched.mediaType}"`);
    }
  }
  if (!manifestMediaTypes.includes(fetched.mediaType)) throw unsupportedMediaType(subject, fetched.mediaType, 'manifest');
  if (digestPattern.test(reference) && indexDigest === undefined && fetched.digest !== reference) {
    throw new IntegrityError(`${subject}: manifest digest mismatch`, reference, fetched.digest);
  }

  const manifest = parseJson(manifestSchema, fetched.bytes, `${subject}: manifest`);
  checkDeclaredType(subject, fetched, manifest);
  if (!configMediaTypes.includes(manifest.config.mediaType)) throw unsupportedMediaType(subject, manifest.config.mediaType, 'config');
  for (const layer of manifest.layers) {
    if (layerCompression(layer.mediaType) === undefined) throw unsupportedMediaType(subject, layer.mediaType, `layer ${shortDigest(layer.digest)}`);
  }
  if (manifest.config.size > limits.configBytes) {
    throw new SyscontainerError('ELIMIT', `${subject}: config is larger than ${limits.configBytes} bytes (${manifest.config.size})`);
  }

  const configStream = await source.openBlob(manifest.config);
  const configBytes = await readAllBounded(
    configStream,
    limits.configBytes,
    () => new SyscontainerError('ELIMIT', `${subject}: config is larger than ${limits.configBytes} bytes`),
  );
  const config = parseJson(imageConfigSchema, configBytes, `${subject}: config`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new SyscontainerError(
      'EMANIFEST',
      `${subject}: config lists ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`,
    );
  }

  const resolved: ResolvedImage = {
    manifest,
    manifestBytes: fetched.bytes,
    manifestDigest: fetched.digest,
    manifestMediaType: fetched.mediaType,
    config,
    configBytes,
    configDigest: manifest.config.digest,
    platform: chosenPlatform ?? {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant !== undefined ? { variant: config.variant } : {}),
    },
  };
  if (indexDigest !== undefined) resolved.indexDigest = indexDigest;
  return resolved;
}
