// `images verify`: a stored image checked again against today's policy and today's
// signatures (keys get revoked, signatures get withdrawn, policies get stricter). The digest
// checked is the one verified at pull (an index's when the image came through one), else the
// stored manifest's; the signatures are read where a pull would read them.
import { loadRegistriesConf } from '../registry/registries-conf.js';
import { parseReference, qualifyReference } from '../oci/reference.js';
import { RegistrySource } from '../sources/registry-source.js';
import { retryOptions } from '../registry/retry.js';
import { SyscontainerError } from '../../common/errors.js';
import { pullTrust, type TrustRecord } from './pull-trust.js';
import type { TrustSettings } from './trust-settings.js';

export interface StoredImageTrust {
  name: string;
  manifestDigest: string;
  trust?: TrustRecord | undefined;
}

export type TrustRecheck =
  | { status: 'no-policy' }
  | { status: 'accepted'; record: TrustRecord }
  | { status: 'refused'; reason: string };

export async function recheckTrust(image: StoredImageTrust, settings: { trust: TrustSettings; registriesConf?: string | undefined; authFile?: string | undefined }): Promise<TrustRecheck> {
  const trust = await pullTrust(settings.trust);
  if (trust === undefined) return { status: 'no-policy' };
  const recorded = image.trust;
  const digest = recorded?.digest ?? image.manifestDigest;
  try {
    if (recorded !== undefined && (recorded.transport === 'oci' || recorded.transport === 'oci-archive')) {
      return { status: 'accepted', record: await (await trust.layout(recorded.transport, recorded.identity))(digest) };
    }
    const conf = await loadRegistriesConf(settings.registriesConf);
    const reference = qualifyReference(parseReference(recorded?.identity ?? image.name), { unqualifiedSearchRegistries: [], aliases: {} })[0]!;
    const source = new RegistrySource({ reference, conf, ...(settings.authFile !== undefined ? { authFile: settings.authFile } : {}) });
    const { requestTimeoutMs, stallTimeoutMs } = retryOptions();
    return { status: 'accepted', record: await trust.registry(source, reference, { requestTimeoutMs, stallTimeoutMs })(digest) };
  } catch (error) {
    if (error instanceof SyscontainerError && error.code === 'ETRUST') return { status: 'refused', reason: error.message };
    throw error;
  }
}
