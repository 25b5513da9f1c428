// Reading a small response body (manifest, token, error) into memory: bounded in size and
// in patience, so a hostile or stuck server can neither fill memory nor hang us.
import { RegistryError, SyscontainerError } from '../../common/errors.js';
import { describeNetworkError, type HttpResponse } from './http.js';

export interface ReadSmallBodyOptions {
  /** More bytes than this → ELIMIT (checked against Content-Length first, then while reading). */
  max: number;
  /** No bytes for this long → retryable ENETWORK. */
  stallTimeoutMs: number;
  registry: string;
  /** `image X` — names the thing in the ELIMIT message. */
  subject: string;
  /** `manifest`, `token response` … */
  what: string;
}

/**
 * The whole body. Broken connections and stalls reject with a retryable RegistryError
 * ('ENETWORK'); the body is destroyed on any failure.
 */
export async function readSmallBody(response: HttpResponse, options: ReadSmallBodyOptions): Promise<Buffer> {
  const { max, stallTimeoutMs, registry, subject, what } = options;
  const declared = Number(response.header('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    response.body.destroy();
    throw new SyscontainerError('ELIMIT', `${subject}: ${what} is larger than ${max} bytes (${declared})`);
  }
  const body = response.body;
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (error?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (error) {
        body.destroy();
        reject(error);
      } else resolve();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish(new RegistryError('ENETWORK', `registry ${registry}: ${what} stalled (no data for ${stallTimeoutMs} ms)`, { retryable: true }));
      }, stallTimeoutMs);
    };
    body.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) {
        finish(new SyscontainerError('ELIMIT', `${subject}: ${what} is larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
      arm();
    });
    body.once('end', () => finish());
    body.once('error', (error) => {
      finish(new RegistryError('ENETWORK', `registry ${registry}: ${what} interrupted: ${describeNetworkError(error)}`, { retryable: true, cause: error }));
    });
    body.once('close', () => {
      if (!body.readableEnded) finish(new RegistryError('ENETWORK', `registry ${registry}: ${what} interrupted`, { retryable: true }));
    });
    arm();
  });
  return Buffer.concat(chunks, total);
}
