// A blob download that survives broken connections: when the body errors or stalls, it asks
// again with `Range: bytes=N-` and goes on from byte N if the registry answers 206. When the
// registry ignores Range (200) it starts again only if no byte has been passed on yet;
// otherwise it fails, since the bytes already handed downstream cannot be taken back.
// Verification is not done here: the stream is wrapped in a BlobVerifier (verified-blob.ts).
import { Readable } from 'node:stream';
import { RegistryError } from '../../common/errors.js';
import { describeNetworkError, type HttpResponse } from './http.js';
import { backoffDelay, sleep, type RetryOptions } from './retry.js';

export interface BlobReaderOptions {
  /** The already-opened first response (status 200). */
  first: HttpResponse;
  /** Re-opens the blob from `offset` (sends Range when offset > 0); retries internally. */
  reopen(offset: number): Promise<HttpResponse>;
  /** Expected size: a clean end before it is left to the verifier to report. */
  size: number;
  /** `image X: blob sha256:…` for messages. */
  what: string;
  registry: string;
  retry: RetryOptions;
}

export class ResumableBlobReader extends Readable {
  private readonly options: BlobReaderOptions;
  private body: Readable | undefined;
  /** Bytes pushed downstream. */
  private offset = 0;
  private failures = 0;
  private offsetAtLastFailure = 0;
  /** Incremented whenever a body is abandoned, so its late events are ignored. */
  private generation = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private reopening = false;

  constructor(options: BlobReaderOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.options = options;
    this.attach(options.first.body);
  }

  override _read(): void {
    if (this.body !== undefined && this.body.isPaused()) {
      this.armStall();
      this.body.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.generation++;
    clearTimeout(this.stallTimer);
    this.body?.destroy();
    this.body = undefined;
    callback(error);
  }

  private armStall(): void {
    clearTimeout(this.stallTimer);
    const generation = this.generation;
    this.stallTimer = setTimeout(() => {
      if (generation !== this.generation || this.destroyed) return;
      this.interrupted(`stalled (no data for ${this.options.retry.stallTimeoutMs} ms)`);
    }, this.options.retry.stallTimeoutMs);
  }

  private attach(body: Readable): void {
    const generation = ++this.generation;
    this.body = body;
    body.on('data', (chunk: Buffer) => {
      if (generation !== this.generation) return;
      this.offset += chunk.length;
      if (this.push(chunk)) this.armStall();
      else {
        // Downstream is slow: that is not the registry stalling.
        clearTimeout(this.stallTimer);
        body.pause();
      }
    });
    body.once('end', () => {
      if (generation !== this.generation) return;
      clearTimeout(this.stallTimer);
      this.body = undefined;
      // A cleanly framed body is what the registry meant to send; if it is short or long,
      // the verifier downstream says so with the numbers.
      this.push(null);
    });
    body.once('error', (error) => {
      if (generation !== this.generation) return;
      this.interrupted(describeNetworkError(error), error);
    });
    body.once('close', () => {
      if (generation !== this.generation || body.readableEnded) return;
      this.interrupted('connection closed');
    });
    this.armStall();
  }

  /** The current body broke: wait, then ask again from the current offset. */
  private interrupted(reason: string, cause?: unknown): void {
    if (this.reopening || this.destroyed) return;
    this.generation++;
    clearTimeout(this.stallTimer);
    this.body?.destroy();
    this.body = undefined;
    if (this.offset > this.offsetAtLastFailure) this.failures = 0;
    this.failures++;
    this.offsetAtLastFailure = this.offset;
    const { retry, registry, what } = this.options;
    if (this.failures >= retry.tries) {
      this.destroy(
        new RegistryError('ENETWORK', `registry ${registry} keeps failing: ${what} ${reason} after ${this.offset} bytes, ${this.failures} tries`, {
          retryable: true,
          cause,
        }),
      );
      return;
    }
    this.reopening = true;
    void this.reopen(backoffDelay(retry, this.failures));
  }

  private async reopen(delay: number): Promise<void> {
    await sleep(delay);
    if (this.destroyed) return;
    let response: HttpResponse;
    try {
      response = await this.options.reopen(this.offset);
    } catch (error) {
      this.reopening = false;
      this.destroy(error as Error);
      return;
    }
    this.reopening = false;
    if (this.destroyed) {
      response.body.destroy();
      return;
    }
    const { what } = this.options;
    if (this.offset === 0 && response.status === 200) {
      this.attach(response.body);
      return;
    }
    if (response.status === 206) {
      const range = /^bytes (\d+)-/.exec(response.header('content-range') ?? '');
      if (range === null || Number(range[1]) !== this.offset) {
        response.body.destroy();
        this.destroy(new RegistryError('EREGISTRY', `${what}: registry answered the resume at byte ${this.offset} with the wrong range`, { status: 206 }));
        return;
      }
      this.attach(response.body);
      return;
    }
    if (response.status === 416) {
      // Nothing more to read from byte `offset`: the blob is shorter than promised.
      response.body.destroy();
      this.push(null);
      return;
    }
    response.body.destroy();
    this.destroy(
      new RegistryError('EREGISTRY', `${what}: download interrupted after ${this.offset} bytes and the registry cannot resume it (answered ${response.status} to a Range request)`, {
        status: response.status,
      }),
    );
  }
}
