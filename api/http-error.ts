// The one error a route throws to answer with a status: {"message": …} as the Docker Engine
// API does. Errors of the application layer map to statuses by their code, so a route never
// decides what an ENOTFOUND is.
import { isSyscontainerError, type ErrorCode } from '../app/index.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const statusByCode: Partial<Record<ErrorCode, number>> = {
  EUSAGE: 400,
  EINVAL: 400,
  EREFERENCE: 400,
  EMANIFEST: 400,
  ETEMPLATE: 400,
  ELIMIT: 413,
  ENOTFOUND: 404,
  EEXIST: 409,
  ELOCKED: 409,
  EAUTH: 401,
  EDENIED: 403,
  EQUOTA: 403,
  EREGISTRY: 502,
  ENETWORK: 502,
  EINTEGRITY: 502,
};

/** Status and one-line message for anything a route threw; unexpected errors are 500s. */
export function describeError(error: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, message: error.message, headers: error.headers };
  if (isSyscontainerError(error)) {
    const message = error.hint === undefined ? error.message : `${error.message} (${error.hint.split('\n')[0]})`;
    return { status: statusByCode[error.code] ?? 500, message, headers: {} };
  }
  return { status: 500, message: `internal error: ${error instanceof Error ? error.message : String(error)}`, headers: {} };
}
