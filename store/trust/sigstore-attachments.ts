// Sigstore signatures stored in the registry next to the image: the manifest tagged
// `sha256-HEX.sig` in the same repository, one layer per signature. Read through the same
// ImageSource as the image (so mirrors, credentials and TLS are those of the pull), bounded:
// at most limits.signatures layers of at most limits.signatureBytes each, each verified
// against its digest by the source's blob reader.
import { SyscontainerError } from '../../common/errors.js';
import type { ImageSource } from '../sources/image-source.js';
import { MediaType, parseJson, manifestSchema } from '../oci/oci-types.js';
import { readAllBounded } from '../content/verified-blob.js';
import type { SigstoreSignature } from './sigstore-signature.js';
import { limits } from './signature-limits.js';

/** The tag cosign and containers/image use for the attachments of `manifestDigest`. */
export function sigstoreAttachmentTag(manifestDigest: string): string {
  return `${manifestDigest.replace(':', '-')}.sig`;
}

/** The attachments of `manifestDigest` (none when the tag does not exist). */
export async function readSigstoreAttachments(source: ImageSource, manifestDigest: string): Promise<SigstoreSignature[]> {
  const tag = sigstoreAttachmentTag(manifestDigest);
  let fetched;
  try {
    fetched = await source.fetchManifest(tag);
  } catch (error) {
    if (error instanceof SyscontainerError && error.code === 'ENOTFOUND') return [];
    throw error;
  }
  const what = `sigstore attachment ${tag}`;
  if (fetched.mediaType !== MediaType.ociManifest) {
    throw new SyscontainerError('EMANIFEST', `${what}: unexpected media type "${fetched.mediaType.slice(0, 100)}" (an OCI image manifest was expected)`);
  }
  const manifest = parseJson(manifestSchema, fetched.bytes, what);
  if (manifest.layers.length > limits.signatures) {
    throw new SyscontainerError('ELIMIT', `${what}: more than ${limits.signatures} signatures (${manifest.layers.length})`);
  }
  const signatures: SigstoreSignature[] = [];
  let total = 0;
  for (const layer of manifest.layers) {
    if (layer.size > limits.signatureBytes) throw new SyscontainerError('ELIMIT', `${what}: a signature of ${layer.size} bytes (more than ${limits.signatureBytes})`);
    total += layer.size;
    if (total > limits.totalBytes) throw new SyscontainerError('ELIMIT', `${what}: signatures add up to more than ${limits.totalBytes} bytes`);
    const payload = await readAllBounded(await source.openBlob(layer), limits.signatureBytes, () => new SyscontainerError('ELIMIT', `${what}: signature larger than ${limits.signatureBytes} bytes`));
    signatures.push({ mediaType: layer.mediaType, payload, annotations: layer.annotations ?? {} });
  }
  return signatures;
}
