// A pass-through that counts, and optionally hashes and bounds, the bytes on their way: the
// one place a stream's size and sha256 are measured (blob verification, diff_ids, exported
// layers, the bench's images).
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface MeterOptions {
  /** Hash what passes (sha256); default true. */
  hash?: boolean;
  /** Most bytes let through; one more fails the stream with `onLimit()`. Default: no bound. */
  limit?: number;
  onLimit?: () => Error;
  /** Called after each chunk is counted (progress). */
  onChunk?: (bytes: number) => void;
  highWaterMark?: number;
}

export class Meter extends Transform {
  /** Bytes passed so far. */
  bytes = 0;
  private readonly hash: Hash | undefined;
  private digestValue: string | undefined;

  constructor(private readonly options: MeterOptions = {}) {
    super(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {});
    this.hash = options.hash === false ? undefined : createHash('sha256');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.options.limit !== undefined && this.bytes > this.options.limit) {
      callback(this.options.onLimit?.() ?? new RangeError(`more than ${this.options.limit} bytes`));
      return;
    }
    this.hash?.update(chunk);
    this.options.onChunk?.(this.bytes);
    callback(null, chunk);
  }

  /** `sha256:<hex>` of everything that passed; ask once the stream has ended (later chunks are not in it). */
  digest(): string {
    if (this.hash === undefined) throw new Error('Meter: created without hashing');
    this.digestValue ??= `sha256:${this.hash.digest('hex')}`;
    return this.digestValue;
  }
}
