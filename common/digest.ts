// sha256 digests as OCI writes them (`sha256:<64 hex>`) and the two ways we shorten one:
// in a message, and as the id a listing shows.
import { createHash } from 'node:crypto';

/** `sha256:<hex>` of `data`. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * `sha256:0123456789ab…`: the digest named in a one-line message, short enough to read and
 * plainly cut (the algorithm stays, the ellipsis says there is more). Anything not of the
 * form ALGO:HEX longer than 12 digits is returned whole.
 */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon >= 0 && digest.length > colon + 13 ? `${digest.slice(0, colon + 13)}…` : digest;
}

/** `0123456789ab`: the first 12 hex digits, the id column docker, podman and atomic show. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
