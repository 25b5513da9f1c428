// OSTree ref names for images and blobs, byte-compatible with Atomic/skopeo repositories:
//   blob (layer or config)  ociimage/<sha256 hex>
//   image                   ociimage/<encoded REGISTRY/REPO:TAG>
// Encoding: every byte of the UTF-8 name outside [A-Za-z0-9.-] becomes `_` + two upper-case
// hex digits (`/` → `_2F`, `:` → `_3A`, `_` → `_5F`). An encoded image name always contains
// `_` (a normalised name has `/` and `:`), so it never looks like a 64-hex blob ref.
import { SyscontainerError } from '../common/errors.js';
import { digestPattern } from './oci/oci-types.js';

export const refPrefix = 'ociimage/';

const plainByte = /^[A-Za-z0-9.-]$/;
const blobRefPattern = /^ociimage\/([a-f0-9]{64})$/;

/** Encodes an image name (already normalised by the caller to REGISTRY/REPO:TAG). Pure. */
export function encodeImageName(name: string): string {
  if (name.length === 0) throw new SyscontainerError('EINVAL', 'image name is empty');
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && plainByte.test(ch) ? ch : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of encodeImageName; undefined when `encoded` is not a valid encoding. */
export function decodeImageName(encoded: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i]!;
    if (ch === '_') {
      const hex = encoded.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (plainByte.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      return undefined;
    }
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** The ref of an image: `ociimage/<encoded name>`. */
export function imageRef(name: string): string {
  return refPrefix + encodeImageName(name);
}

/** The image name of an image ref; undefined for blob refs and anything else. */
export function imageNameFromRef(ref: string): string | undefined {
  if (!ref.startsWith(refPrefix) || isBlobRef(ref)) return undefined;
  const rest = ref.slice(refPrefix.length);
  if (rest.length === 0 || rest.includes('/')) return undefined;
  return decodeImageName(rest);
}

/** The ref of a blob (layer or config): `ociimage/<hex>`. Throws EINVAL on a malformed digest. */
export function blobRef(digest: string): string {
  if (!digestPattern.test(digest)) throw new SyscontainerError('EINVAL', `not a sha256 digest: ${digest}`);
  return refPrefix + digest.slice('sha256:'.length);
}

export function isBlobRef(ref: string): boolean {
  return blobRefPattern.test(ref);
}

/** `sha256:<hex>` for a blob ref; undefined otherwise. */
export function digestFromBlobRef(ref: string): string | undefined {
  const match = blobRefPattern.exec(ref);
  return match ? `sha256:${match[1]}` : undefined;
}
