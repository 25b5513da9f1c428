// An update or rollback that failed and put back the deployment that ran before (which runs
// again): `update --all` and auto-update report these as "rolled back", not "failed".
import { SyscontainerError } from '../../common/errors.js';

export class RolledBackError extends SyscontainerError {
  /** The revision that runs again. */
  readonly revision: number;

  constructor(message: string, revision: number, options: { hint?: string | undefined; cause?: unknown } = {}) {
    super('ERUNTIME', message, { ...(options.hint !== undefined ? { hint: options.hint } : {}), cause: options.cause });
    this.name = 'RolledBackError';
    this.revision = revision;
  }
}
