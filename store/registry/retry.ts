// When and how long to wait before trying a registry again: exponential backoff from a small
// base, Retry-After honoured up to a cap, a bounded number of tries. Tests shrink every number.
import { RegistryError } from '../../common/errors.js';

export interface RetryOptions {
  /** Attempts in total (first try included). */
  tries: number;
  /** First backoff; doubled each time. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we wait for; longer values are cut to this. */
  retryAfterCapMs: number;
  /** No body bytes for this long → abort the transfer and retry (or resume). */
  stallTimeoutMs: number;
  /** Response headers must arrive within this long. */
  requestTimeoutMs: number;
  /** Redirect hops followed for one request. */
  maxRedirects: number;
}

export const defaultRetryOptions: RetryOptions = {
  tries: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  retryAfterCapMs: 30_000,
  stallTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  maxRedirects: 10,
};

export function retryOptions(overrides: Partial<RetryOptions> = {}): RetryOptions {
  const out = { ...defaultRetryOptions };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (out as Record<string, number>)[key] = value as number;
  }
  out.tries = Math.max(1, Math.floor(out.tries));
  return out;
}

/** A retryable failure that carries the server's Retry-After, if it sent one. */
export class RetryableRegistryError extends RegistryError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: { status?: number; registryCodes?: readonly string[]; retryAfterMs?: number; cause?: unknown }) {
    super('EREGISTRY', message, { ...details, retryable: true });
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Wait before attempt number `attempt + 1` (attempt counts from 1). */
export function backoffDelay(options: RetryOptions, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.retryAfterCapMs);
  const exponential = options.baseDelayMs * 2 ** (attempt - 1);
  // A little jitter so parallel layer downloads do not retry in lockstep.
  return Math.min(options.maxDelayMs, exponential) * (0.9 + Math.random() * 0.2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The final failure after all tries: still `retryable` for the user (later may work), but never retried again by an enclosing loop. */
export class RetriesExhaustedError extends RegistryError {}

export function isRetryable(error: unknown): boolean {
  return error instanceof RegistryError && error.retryable && !(error instanceof RetriesExhaustedError);
}

/** Short description of what failed, for "keeps failing: 500 after 5 tries". */
function failureSummary(error: unknown): string {
  if (error instanceof RegistryError) {
    if (error.status !== undefined) return String(error.status);
    const m = /failed: (.*)$/.exec(error.message);
    if (m?.[1]) return m[1];
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `attempt` up to `options.tries` times while it throws retryable RegistryErrors. The
 * final failure is a RegistryError `registry HOST keeps failing: WHAT after N tries` with the
 * last error as cause; non-retryable errors pass through at once.
 */
export async function withRetry<T>(registry: string, options: RetryOptions, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (n >= options.tries) {
        const last = error as RegistryError;
        throw new RetriesExhaustedError(last.code === 'ENETWORK' ? 'ENETWORK' : 'EREGISTRY', `registry ${registry} keeps failing: ${failureSummary(error)} after ${n} tries`, {
          ...(last.status !== undefined ? { status: last.status } : {}),
          registryCodes: last.registryCodes,
          retryable: true,
          cause: error,
        });
      }
      const retryAfter = error instanceof RetryableRegistryError ? error.retryAfterMs : undefined;
      await sleep(backoffDelay(options, n, retryAfter));
    }
  }
}
