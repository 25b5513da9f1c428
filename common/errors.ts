// One error family for the whole tool. Every failure a user can cause or meet carries a
// stable code, a one-line message naming the thing at fault, an optional hint, and the cause.
// The CLI prints `message` (and `hint`), exits non-zero, and shows the cause chain on --debug.

export type ErrorCode =
  | 'EUSAGE' // bad command line
  | 'EINVAL' // bad value given by the user (name, --set, reference)
  | 'EREFERENCE' // image reference does not parse
  | 'EREGISTRY' // registry answered with an error
  | 'ENETWORK' // could not talk to the registry at all
  | 'EAUTH' // registry refused our credentials or we have none
  | 'ENOTFOUND' // image, manifest, blob or container does not exist
  | 'EINTEGRITY' // content does not match its digest or size
  | 'EMANIFEST' // manifest, index or config is malformed or unsupported
  | 'ELAYER' // a layer's tar is malformed or hostile
  | 'ELIMIT' // input exceeds a safety bound
  | 'ESTORE' // the ostree repository failed
  | 'ETEMPLATE' // a template does not render or renders into something invalid
  | 'ERUNTIME' // runc / systemd failed
  | 'EEXIST' // something already exists
  | 'ELOCKED' // another syscontainer holds the lock
  | 'ETRUST' // the signature policy refuses the image
  | 'EDENIED' // the caller may not do this (the REST service: not with this token)
  | 'EQUOTA' // a quota refuses it
  | 'ECONFIG'; // a configuration file is malformed

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class SyscontainerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyscontainerError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Content did not match what its descriptor promised. */
export class IntegrityError extends SyscontainerError {
  readonly expected: string;
  readonly found: string;

  constructor(what: string, expected: string, found: string, options: ErrorOptions = {}) {
    super('EINTEGRITY', `${what}: expected ${expected}, got ${found}`, options);
    this.name = 'IntegrityError';
    this.expected = expected;
    this.found = found;
  }
}

/** A registry answered, but not with what we asked for. */
export class RegistryError extends SyscontainerError {
  readonly status: number | undefined;
  /** The `errors[].code` values of the OCI distribution error body, if any. */
  readonly registryCodes: readonly string[];
  /** Whether trying again later may succeed (5xx, 429, broken connection). */
  readonly retryable: boolean;

  constructor(
    code: 'EREGISTRY' | 'ENETWORK' | 'EAUTH' | 'ENOTFOUND',
    message: string,
    details: { status?: number; registryCodes?: readonly string[]; retryable?: boolean } & ErrorOptions = {},
  ) {
    super(code, message, details);
    this.name = 'RegistryError';
    this.status = details.status;
    this.registryCodes = details.registryCodes ?? [];
    this.retryable = details.retryable ?? false;
  }
}

export function isSyscontainerError(error: unknown): error is SyscontainerError {
  return error instanceof SyscontainerError;
}

/**
 * Makes `error` name what was being worked on ("image X: layer …: digest mismatch"), once:
 * messages that already start with `subject` are left alone. Returns the same error.
 */
export function inContext<E>(error: E, subject: string): E {
  if (error instanceof SyscontainerError && !error.message.startsWith(subject)) {
    error.message = `${subject}: ${error.message}`;
  }
  return error;
}
