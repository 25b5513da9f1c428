// Sigstore signatures with a public key (cosign `sign --key`, skopeo
// --sign-by-sigstore-private-key): a layer of the `sha256-HEX.sig` attachment whose bytes are
// the JSON claim and whose `dev.cosignproject.cosign/signature` annotation is the base64
// signature of those bytes (ECDSA P-256 with SHA-256 as cosign makes them; Ed25519 and RSA
// keys verify too). Node's crypto does the work. Fulcio certificates and Rekor entries are
// not checked by this version: policies that require them refuse the image.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const sigstoreMediaType = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const sigstoreSignatureAnnotation = 'dev.cosignproject.cosign/signature';

/** One attachment layer as fetched: untrusted until verified. */
export interface SigstoreSignature {
  mediaType: string;
  payload: Buffer;
  annotations: Record<string, string>;
}

export interface SigstoreKey {
  key: KeyObject;
  /** `SHA256:` + hex of the key's SubjectPublicKeyInfo, to name it in records. */
  fingerprint: string;
}

/** Reads PEM public keys (several may follow each other in one blob); throws a plain Error. */
export function readSigstoreKeys(blob: Buffer): SigstoreKey[] {
  const blocks = blob.toString('utf8').match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM "PUBLIC KEY" block');
  return blocks.map((pem) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (error) {
      throw new Error(`not a public key (${(error as Error).message.split('\n')[0]})`);
    }
    const der = key.export({ type: 'spki', format: 'der' });
    return { key, fingerprint: `SHA256:${createHash('sha256').update(der).digest('hex')}` };
  });
}

export type SigstoreResult = { payload: Buffer; fingerprint: string } | { fault: string };

/** Verifies one attachment against the keys; returns the fault instead of throwing. */
export function verifySigstoreSignature(keys: SigstoreKey[], signature: SigstoreSignature): SigstoreResult {
  const encoded = signature.annotations[sigstoreSignatureAnnotation];
  if (encoded === undefined) return { fault: `no ${sigstoreSignatureAnnotation} annotation` };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return { fault: `the ${sigstoreSignatureAnnotation} annotation is not base64` };
  const bytes = Buffer.from(encoded, 'base64');
  for (const { key, fingerprint } of keys) {
    // Ed25519 hashes internally (algorithm null); ECDSA and RSA keys sign a SHA-256 digest.
    const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    try {
      if (verify(algorithm, signature.payload, key, bytes)) return { payload: signature.payload, fingerprint };
    } catch {
      // a malformed signature for this key type: try the next key
    }
  }
  return { fault: keys.length === 1 ? 'not signed by the key' : `not signed by any of the ${keys.length} keys` };
}
