// Turns a registry's unwanted answer into one RegistryError with a one-line message, the HTTP
// status, the distribution error codes (`{"errors":[{"code":"MANIFEST_UNKNOWN",…}]}`) and
// whether another try may help.
import { RegistryError } from '../../common/errors.js';
import type { HttpResponse } from './http.js';
import { RetryableRegistryError, parseRetryAfter } from './retry.js';

const errorBodyLimit = 64 * 1024;

/** Phrases for the distribution spec's error codes. */
const codePhrases: Record<string, string> = {
  BLOB_UNKNOWN: 'blob unknown',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown',
  DIGEST_INVALID: 'digest invalid',
  MANIFEST_BLOB_UNKNOWN: 'manifest references an unknown blob',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNKNOWN: 'manifest unknown',
  MANIFEST_UNVERIFIED: 'manifest unverified',
  NAME_INVALID: 'invalid repository name',
  NAME_UNKNOWN: 'repository unknown',
  SIZE_INVALID: 'size invalid',
  TAG_INVALID: 'tag invalid',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'access denied',
  UNSUPPORTED: 'operation unsupported',
  TOOMANYREQUESTS: 'too many requests',
};

export interface ErrorContext {
  /** Host[:port] as the user wrote it. */
  registry: string;
  /** What was asked for, e.g. `image 127.0.0.1:5000/foo:latest` or `registry 127.0.0.1:5000`. */
  subject: string;
  /** User name whose credentials were sent, if any (changes the 401 message). */
  username?: string;
}

/** Reads at most 64 KiB of an error body (never more, never hangs longer than `timeoutMs`). */
export async function readErrorBody(response: HttpResponse, timeoutMs = 5_000): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  const body = response.body;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      body.off('data', onData);
      body.destroy();
      resolve();
    }
    function onData(chunk: Buffer): void {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= errorBodyLimit) done();
    }
    body.on('data', onData);
    body.once('end', done);
    body.once('error', done);
    body.once('close', done);
  });
  return Buffer.concat(chunks).subarray(0, errorBodyLimit).toString('utf8');
}

/** The `errors[].code` and first message of a distribution error body; empty when it is not one. */
export function parseErrorBody(text: string): { codes: string[]; message?: string } {
  try {
    const doc = JSON.parse(text) as { errors?: unknown; details?: unknown };
    if (!Array.isArray(doc.errors)) return { codes: [] };
    const codes: string[] = [];
    let message: string | undefined;
    for (const e of doc.errors.slice(0, 20)) {
      const code = (e as { code?: unknown })?.code;
      if (typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code)) codes.push(code);
      const m = (e as { message?: unknown })?.message;
      if (message === undefined && typeof m === 'string') message = m;
    }
    return message === undefined ? { codes } : { codes, message };
  } catch {
    return { codes: [] };
  }
}

/** One printable line, bounded: registry text must not forge extra lines in our output. */
export function oneLine(text: string, max = 200): string {
  const clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function statusPhrase(status: number, statusText: string): string {
  switch (status) {
    case 400: return 'bad request';
    case 401: return 'authentication required';
    case 403: return 'access denied';
    case 404: return 'not found';
    case 405: return 'operation not supported by this registry';
    case 416: return 'range not satisfiable';
    case 429: return 'too many requests';
    default: return oneLine(statusText.toLowerCase()) || `HTTP ${status}`;
  }
}

/** Builds the error for `response` (its body is consumed). */
export async function errorFromResponse(response: HttpResponse, context: ErrorContext): Promise<RegistryError> {
  const { status } = response;
  const text = response.body.readableEnded ? '' : await readErrorBody(response);
  const { codes, message } = parseErrorBody(text);
  const codeText = codes.length > 0 ? ` ${codes.join(',')}` : '';
  const details = { status, registryCodes: codes };

  if (status === 401) {
    if (context.username !== undefined) {
      return new RegistryError('EAUTH', `registry ${context.registry}: credentials for user "${oneLine(context.username, 64)}" were rejected (401${codeText})`, {
        ...details,
        hint: `run syscontainer login ${context.registry}`,
      });
    }
    return new RegistryError('EAUTH', `registry ${context.registry}: authentication required (401); run syscontainer login ${context.registry}`, details);
  }
  const retryAfterMs = parseRetryAfter(response.header('retry-after'));
  if (status === 429 || (status >= 500 && status !== 501 && status !== 505)) {
    const phrase = codes[0] !== undefined && codePhrases[codes[0]] ? codePhrases[codes[0]] : statusPhrase(status, response.statusText);
    return new RetryableRegistryError(`registry ${context.registry}: ${phrase} (${status}${codeText})`, {
      ...details,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  const known = codes.find((c) => codePhrases[c] !== undefined);
  const phrase = known !== undefined ? codePhrases[known]! : message !== undefined ? oneLine(message) : statusPhrase(status, response.statusText);
  if (status === 403) return new RegistryError('EAUTH', `${context.subject}: ${phrase} (403${codeText})`, details);
  if (status === 404) return new RegistryError('ENOTFOUND', `${context.subject}: ${phrase} (404${codeText})`, details);
  return new RegistryError('EREGISTRY', `${context.subject}: ${phrase} (${status}${codeText})`, details);
}
