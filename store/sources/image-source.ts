// Where image content comes from: a registry, an OCI layout directory, an OCI archive, or
// (for push) our own store. Pull and push only ever see this view, so every source goes
// through the same verification and the same import path.
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/oci-types.js';

export interface FetchedManifest {
  /** The raw bytes as served: their sha256 is the manifest digest. */
  bytes: Buffer;
  /** Media type as declared by the server (Content-Type) or the document itself. */
  mediaType: string;
  /** sha256 of `bytes`, computed by us. When the manifest was asked for by digest it equals that digest. */
  digest: string;
}

export interface ImageSource {
  /** Human-readable name of what is read, for messages ("127.0.0.1:5000/etcd:latest"). */
  readonly description: string;
  /**
   * The manifest or index for a tag or digest. Bytes are bounded (limits.manifestBytes) and,
   * when `reference` is a digest, verified against it; otherwise the digest is computed.
   */
  fetchManifest(reference: string): Promise<FetchedManifest>;
  /**
   * A stream of the blob's raw (still compressed) bytes. Verification happens inside: the
   * stream emits an IntegrityError instead of ending when the size or sha256 does not match
   * `descriptor`, so no caller can skip the check. Interrupted transfers are resumed where the
   * source allows. The caller consumes or destroys the stream.
   */
  openBlob(descriptor: Descriptor): Promise<Readable>;
}
