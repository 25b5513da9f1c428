// Bounds on what a signature store may make us read: a hostile or broken lookaside or
// registry must not fill memory or keep a pull busy. The same figures as containers/image
// (4 MiB a signature, 128 signatures), plus a total.
export const limits = {
  /** One signature (lookaside file or response, sigstore payload), and an OpenPGP message's decompressed data. */
  signatureBytes: 4 * 1024 * 1024,
  /** Signatures read for one image from one store; more is refused as a broken or hostile server. */
  signatures: 128,
  /** All signatures of an image together. */
  totalBytes: 16 * 1024 * 1024,
} as const;
