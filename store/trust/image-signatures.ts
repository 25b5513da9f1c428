// The signatures of one image, wherever its kind keeps them: a registry image's in the
// lookaside that registries.d names for it and (when enabled there) in its sigstore
// attachments; an OCI layout or archive has none (as in containers/image), so only
// insecureAcceptAnything, or exactReference/exactRepository through a signature, can admit it.
import type { ImageSource } from '../sources/image-source.js';
import type { ImageSignatures } from './check-image.js';
import { readLookasideSignatures, type LookasideOptions } from './lookaside.js';
import type { PolicyImage } from './policy-scope.js';
import { signatureStorageFor, type RegistriesD } from './registries-d.js';
import { readSigstoreAttachments, sigstoreAttachmentTag } from './sigstore-attachments.js';

export function registrySignatures(
  source: ImageSource,
  image: PolicyImage,
  digest: string,
  registriesD: () => Promise<RegistriesD>,
  options: LookasideOptions,
): ImageSignatures {
  const storage = registriesD().then((config) => signatureStorageFor(config, image));
  storage.catch(() => undefined); // rejected only for a requirement that reads signatures
  return {
    async simpleSigning() {
      const { lookaside } = await storage;
      const found = await readLookasideSignatures(lookaside, digest, options);
      return { signatures: found.signatures, lookedAt: found.firstMissing };
    },
    async sigstore() {
      const { useSigstoreAttachments } = await storage;
      const tag = sigstoreAttachmentTag(digest);
      if (!useSigstoreAttachments) return { signatures: [], lookedAt: `${tag}: use-sigstore-attachments is not enabled for this registry in registries.d` };
      return { signatures: await readSigstoreAttachments(source, digest), lookedAt: `tag ${tag}` };
    },
  };
}

/** An image kind that keeps no signatures (OCI layouts and archives). */
export function noSignatures(kind: string): ImageSignatures {
  const lookedAt = `${kind}: signatures are not stored there`;
  return {
    simpleSigning: async () => ({ signatures: [], lookedAt }),
    sigstore: async () => ({ signatures: [], lookedAt }),
  };
}
