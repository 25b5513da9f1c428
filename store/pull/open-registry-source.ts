// From an image name as a user types it to the registry source that has it: registries.conf
// read, the name qualified (aliases, unqualified-search-registries), the first candidate whose
// registry has the image. Pull and auto-update's digest check resolve a name through here, so
// both pick the same registry and fail with the same words.
import { inContext } from '../../common/errors.js';
import { formatReference, parseReference, qualifyReference } from '../oci/reference.js';
import { loadRegistriesConf } from '../registry/registries-conf.js';
import type { RetryOptions } from '../registry/retry.js';
import { openFirstAvailable, type RegistrySource } from '../sources/registry-source.js';

export interface RegistrySourceSettings {
  /** registries.conf to read (default /etc/containers/registries.conf; missing = defaults). */
  registriesConf?: string | undefined;
  /** auth.json to read credentials from (default: the containers/docker search path). */
  authFile?: string | undefined;
  /** Retry, backoff and timeout tuning of registry requests (default: defaultRetryOptions). */
  retry?: Partial<RetryOptions> | undefined;
}

/**
 * The source of `input` (a registry reference, short or full). A malformed name fails as
 * parseReference says; a failure to reach or find the image names the image: the full
 * reference when the name qualifies to one, else the name as typed (the error then lists
 * each search registry's answer).
 */
export async function openRegistrySource(input: string, settings: RegistrySourceSettings = {}): Promise<RegistrySource> {
  const conf = await loadRegistriesConf(settings.registriesConf);
  const candidates = qualifyReference(parseReference(input), conf);
  return openFirstAvailable(candidates, {
    conf,
    retry: settings.retry ?? {},
    ...(settings.authFile !== undefined ? { authFile: settings.authFile } : {}),
  }).catch((error: unknown) => {
    throw inContext(error, `image ${candidates.length === 1 ? formatReference(candidates[0]!) : input}`);
  });
}
