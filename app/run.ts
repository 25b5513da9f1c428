// run, as Atomic's `atomic run`: a command in an installed, running container, or a one-off
// run of an image in a temporary bundle that is removed afterwards.
import { run as runtimeRun, type RunResult } from '../runtime/index.js';
import { runtimeFor, type AppContext, type OperationEvents } from './context.js';

export interface RunInput {
  /** An installed container's name, or an image (name, id or ref) to run once. */
  target: string;
  /** Required for a container; replaces the image's command for an image. */
  command?: readonly string[];
  set?: Readonly<Record<string, string>>;
  privileged?: boolean;
  /** Attach the caller's stdin, stdout and stderr (output is then not captured). */
  interactive?: boolean;
}

/** Resolves with the command's exit code and output; a non-zero exit code is a result, not an error. */
export async function run(app: AppContext, input: RunInput, events: OperationEvents = {}): Promise<RunResult> {
  return runtimeRun(await runtimeFor(app, events), {
    target: input.target,
    command: input.command ?? [],
    set: input.set ?? {},
    allowPrivileges: input.privileged === true,
    interactive: input.interactive === true,
  });
}
