// run, as Atomic's `atomic run`: a command in an installed, running container, or a one-off
// run of an image in a temporary bundle that is removed afterwards.
import { run as runtimeRun, type RunResult } from '../runtime/index.js';
import { isLocalImageReference, pullImage } from '../store/index.js';
import { runtimeFor, sourceSettings, type AppContext, type OperationEvents } from './context.js';
import { privilegePolicyFor } from './install-image.js';

export interface RunInput {
  /**
   * An installed container's name (without a command: started, as Atomic's `run NAME`), or an
   * image to run once: name, id, or docker-archive:/dockertar:/oci:/oci-archive: (imported first).
   */
  target: string;
  /** Required for a container; replaces the image's command for an image. */
  command?: readonly string[];
  set?: Readonly<Record<string, string>>;
  privileged?: boolean;
  /** Who grants what the image's own /exports declare (install-image.ts); default 'consent'. */
  privileges?: 'declared' | 'consent';
  /** Refuse anything beyond the default confinement (also the site config's `[install] confined`). */
  confined?: boolean;
  /** Attach the caller's stdin, stdout and stderr (output is then not captured). */
  interactive?: boolean;
}

/** Resolves with the command's exit code and output; a non-zero exit code is a result, not an error. */
export async function run(app: AppContext, input: RunInput, events: OperationEvents = {}): Promise<RunResult> {
  const target = isLocalImageReference(input.target)
    ? (await pullImage(app.store, input.target, sourceSettings(app), events.onPull ? { onEvent: events.onPull } : {})).name
    : input.target;
  return runtimeRun(await runtimeFor(app, events), {
    target,
    command: input.command ?? [],
    set: input.set ?? {},
    allowPrivileges: input.privileged === true,
    privilegePolicy: privilegePolicyFor(app, input),
    interactive: input.interactive === true,
  });
}
