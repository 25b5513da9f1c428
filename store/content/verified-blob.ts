// The check every blob goes through, whatever its source: count and hash the bytes on their
// way through, fail as soon as more bytes than promised arrive, and at the end emit an
// IntegrityError instead of 'end' when the size or sha256 differs from the descriptor.
import type { Readable, TransformCallback } from 'node:stream';
import { IntegrityError } from '../../common/errors.js';
import { Meter } from '../../common/metering.js';

export interface BlobExpectation {
  digest: string;
  size: number;
}

/**
 * A pass-through that verifies. `what` names the blob in messages, e.g.
 * `image 127.0.0.1:5000/foo:latest: blob sha256:ab12…`. Only sha256 digests are supported
 * (descriptors are validated to sha256 before they get here).
 */
export class BlobVerifier extends Meter {
  constructor(
    private readonly expected: BlobExpectation,
    private readonly what: string,
  ) {
    super({
      limit: expected.size,
      onLimit: () => new IntegrityError(`${what} size mismatch`, String(expected.size), `more than ${expected.size} bytes`),
    });
    if (!expected.digest.startsWith('sha256:')) {
      throw new IntegrityError(`${what} digest algorithm`, 'sha256', expected.digest.split(':')[0] ?? expected.digest);
    }
  }

  /** Bytes seen so far. */
  get bytesReceived(): number {
    return this.bytes;
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.expected.size) {
      callback(new IntegrityError(`${this.what} size mismatch`, String(this.expected.size), String(this.bytes)));
      return;
    }
    const found = this.digest();
    if (found !== this.expected.digest) {
      callback(new IntegrityError(`${this.what} digest mismatch`, this.expected.digest, found));
      return;
    }
    callback();
  }
}

/**
 * `source` seen through a BlobVerifier. Errors of `source` come out of the returned stream;
 * destroying the returned stream destroys `source`. The caller consumes or destroys it.
 * Nothing is read from `source` until the caller first reads: a small blob would otherwise
 * flow through and fail verification before the caller had attached its error handler.
 */
export function verifiedBlobStream(source: Readable, expected: BlobExpectation, what: string): Readable {
  const verifier = new BlobVerifier(expected, what);
  let sourceError: Error | undefined;
  let started = false;
  source.on('error', (error) => {
    if (started) verifier.destroy(error);
    else sourceError ??= error;
  });
  verifier.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  const read = verifier._read.bind(verifier);
  verifier._read = (size: number) => {
    if (!started) {
      started = true;
      if (sourceError) return void verifier.destroy(sourceError);
      source.pipe(verifier);
    }
    read(size);
  };
  return verifier;
}

/**
 * Reads a whole (small) stream into memory, refusing more than `max` bytes. Used for configs
 * and manifests; the error comes from `onTooLarge` so the caller names the thing.
 */
export async function readAllBounded(stream: Readable, max: number, onTooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      total += buf.length;
      if (total > max) throw onTooLarge();
      chunks.push(buf);
    }
  } finally {
    if (!stream.destroyed) stream.destroy();
  }
  return Buffer.concat(chunks, total);
}
