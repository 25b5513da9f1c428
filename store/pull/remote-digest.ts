// What a registry says an image name points at now, by manifest digest only: what
// auto-update compares with the deployed one before deciding to pull. One manifest request
// (two through an index, for the host's platform); no config, no layers.
import { SyscontainerError } from '../../common/errors.js';
import { formatReference, manifestReferenceOf } from '../oci/reference.js';
import { indexMediaTypes, indexSchema, parseJson } from '../oci/oci-types.js';
import { formatPlatform, hostPlatform, type Platform } from '../oci/platform.js';
import { openRegistrySource, type RegistrySourceSettings } from './open-registry-source.js';
import { choosePlatformEntry } from './resolve-manifest.js';

export interface RemoteDigest {
  /** The full reference asked (REGISTRY/REPO:TAG). */
  reference: string;
  /** The platform manifest's digest: what a pull would store as the image's manifest digest. */
  manifestDigest: string;
}

/** The registry's current manifest digest of image name `input`. */
export async function remoteManifestDigest(input: string, settings: RegistrySourceSettings = {}, platform: Platform = hostPlatform()): Promise<RemoteDigest> {
  const source = await openRegistrySource(input, settings);
  const reference = formatReference(source.reference);
  const fetched = await source.fetchManifest(manifestReferenceOf(source.reference));
  if (!indexMediaTypes.includes(fetched.mediaType)) return { reference, manifestDigest: fetched.digest };
  const index = parseJson(indexSchema, fetched.bytes, `image ${reference}: index`);
  const entry = choosePlatformEntry(index, platform);
  if (entry === undefined) throw new SyscontainerError('ENOTFOUND', `image ${reference}: no manifest for platform ${formatPlatform(platform)}`);
  return { reference, manifestDigest: entry.digest };
}
