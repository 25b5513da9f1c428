// What a registry says an image name points at now, by manifest digest only: what
// auto-update compares with the deployed one before deciding to pull. One manifest request
// (two through an index, for the host's platform); no config, no layers.
import { inContext, SyscontainerError } from '../../common/errors.js';
import { formatReference, manifestReferenceOf, parseReference, qualifyReference } from '../oci/reference.js';
import { indexMediaTypes, indexSchema, parseJson } from '../oci/oci-types.js';
import { formatPlatform, hostPlatform, type Platform } from '../oci/platform.js';
import { loadRegistriesConf } from '../registry/registries-conf.js';
import { openFirstAvailable } from '../sources/registry-source.js';
import { choosePlatformEntry } from './resolve-manifest.js';
import type { SourceSettings } from './pull-image.js';

export interface RemoteDigest {
  /** The full reference asked (REGISTRY/REPO:TAG). */
  reference: string;
  /** The platform manifest's digest: what a pull would store as the image's manifest digest. */
  manifestDigest: string;
}

/** The registry's current manifest digest of image name `input`. */
export async function remoteManifestDigest(input: string, settings: SourceSettings = {}, platform: Platform = hostPlatform()): Promise<RemoteDigest> {
  const conf = await loadRegistriesConf(settings.registriesConf);
  const candidates = qualifyReference(parseReference(input), conf);
  const source = await openFirstAvailable(candidates, {
    conf,
    retry: settings.retry ?? {},
    ...(settings.authFile !== undefined ? { authFile: settings.authFile } : {}),
  }).catch((error: unknown) => {
    throw inContext(error, `image ${input}`);
  });
  const reference = formatReference(source.reference);
  const fetched = await source.fetchManifest(manifestReferenceOf(source.reference));
  if (!indexMediaTypes.includes(fetched.mediaType)) return { reference, manifestDigest: fetched.digest };
  const index = parseJson(indexSchema, fetched.bytes, `image ${reference}: index`);
  const entry = choosePlatformEntry(index, platform);
  if (entry === undefined) throw new SyscontainerError('ENOTFOUND', `image ${reference}: no manifest for platform ${formatPlatform(platform)}`);
  return { reference, manifestDigest: entry.digest };
}
