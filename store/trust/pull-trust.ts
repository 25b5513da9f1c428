// The trust check a pull runs between resolving the image and storing anything: the policy
// is read (and validated) before the first request, the signatures only when a requirement
// of the image's scope needs them. What was verified becomes the image's trust record, kept
// with the image (commit metadata) and shown by `images info`.
import { realpath } from 'node:fs/promises';
import type { ImageSource } from '../sources/image-source.js';
import type { ImageReference } from '../oci/reference.js';
import { checkImage, type ImageSignatures } from './check-image.js';
import { noSignatures, registrySignatures } from './image-signatures.js';
import type { LookasideOptions } from './lookaside.js';
import { dockerPolicyImage, pathPolicyImage, type PolicyImage } from './policy-scope.js';
import { loadPolicy, loadSignatureStores, type LoadedPolicy, type TrustSettings } from './trust-settings.js';
import type { TrustRecord } from './trust-record.js';

export type { TrustRecord };


/** Checks the image whose fetched top-level manifest has `digest`; rejects with ETRUST when refused. */
export type TrustCheck = (digest: string) => Promise<TrustRecord>;

function checkFor(loaded: LoadedPolicy, image: PolicyImage, signatures: (digest: string) => ImageSignatures): TrustCheck {
  return async (digest) => {
    const verdict = await checkImage(loaded.policy, image, digest, signatures(digest));
    return {
      policy: loaded.path,
      scope: verdict.scope,
      requirements: verdict.requirements,
      digest,
      transport: image.transport,
      identity: image.identity,
      signatures: verdict.signatures,
      verifiedAt: new Date().toISOString(),
    };
  };
}

/** Builds the check of each kind of source, once the policy in force is read. */
export interface PullTrust {
  registry(source: ImageSource, reference: ImageReference, options: LookasideOptions): TrustCheck;
  layout(transport: 'oci' | 'oci-archive' | 'docker-archive', path: string): Promise<TrustCheck>;
}

/**
 * Reads and validates the policy in force (before any request, so a bad policy fails at
 * once); undefined when no policy exists, and then nothing is verified, as before policies.
 */
export async function pullTrust(settings: TrustSettings): Promise<PullTrust | undefined> {
  const loaded = await loadPolicy(settings);
  if (loaded === undefined) return undefined;
  let stores: ReturnType<typeof loadSignatureStores> | undefined;
  const registriesD = () => (stores ??= loadSignatureStores(settings));
  return {
    registry(source, reference, options) {
      const image = dockerPolicyImage(reference);
      return checkFor(loaded, image, (digest) => registrySignatures(source, image, digest, registriesD, options));
    },
    async layout(transport, path) {
      // Scoped by the real path, as containers/image does: a symlink cannot borrow another scope.
      const image = pathPolicyImage(transport, await realpath(path).catch(() => path));
      return checkFor(loaded, image, () => noSignatures(`${transport}:${image.identity}`));
    },
  };
}
