// Waiting for a container to exit (docker's wait), from the run record its own unit writes
// (runtime/exit-status.ts): an exit recorded before the wait is seen at once, one after it as
// it lands, and nothing is lost when the service restarts in between. Reading records nothing
// but a lost exit: a run whose monitor was killed (without systemd) left no record when it
// ended, and then gets `unknown exited 255` (docker's code for an exit it lost) through the one
// repair `status` makes (the runtime's status, Supervisor.status), so wait and inspect answer
// as status does instead of waiting forever or saying it exited with 0.
import { DeploymentStore, readRunRecord, runcOf, status, waitForExit, type RunRecord } from '../runtime/index.js';
import { isSyscontainerError } from '../common/errors.js';
import type { AppContext } from './context.js';
import type { ContainerView } from './container-views.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';
export const waitConditions: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

/** The result word of a repaired, lost exit (its real code is not known). */
export const lostExitResult = 'unknown';

/**
 * The run record of `name` in `dir`, with a lost exit repaired: when a run started, has no
 * exit recorded and runc does not run the container, asks for its status (which records the
 * lost exit when its monitor is gone, and nothing while one is still writing).
 */
async function settledRecord(app: AppContext, name: string, dir: string): Promise<RunRecord> {
  const record = await readRunRecord(dir);
  if (record.exit !== undefined || record.startedAt === undefined) return record;
  if ((await runcOf(app.runtime).state(name).catch(() => undefined))?.status === 'running') return record;
  // The status `syscontainer status` shows (containerStatus): the one place that repairs it.
  await status(app.runtime, { name }).catch(() => undefined);
  return readRunRecord(dir);
}

/** `view` as it really is: a container that ended without a record gets its lost exit (see settledRecord). */
export async function settledView(app: AppContext, view: ContainerView): Promise<ContainerView> {
  if (view.state !== 'exited' || view.exit !== undefined) return view;
  return { ...view, exit: (await settledRecord(app, view.name, view.dir)).exit };
}

/**
 * The exit code of `view`'s container once `condition` holds: not-running (at once when it is
 * not running), next-exit (the first exit recorded after this call), removed (that exit, and
 * the container uninstalled). Rejects when `signal` aborts.
 */
export async function waitForContainer(app: AppContext, view: ContainerView, condition: WaitCondition, signal: AbortSignal): Promise<number> {
  if (condition === 'not-running' && view.state !== 'running') return (await settledView(app, view)).exit?.exitCode ?? 0;
  // not-running, while it runs: the exit of this run (finished after it started), not an earlier one.
  const startedMs = view.startedAt?.getTime();
  const before = (await readRunRecord(view.dir)).exit?.finishedAt.getTime();
  const accept =
    condition === 'not-running'
      ? (r: RunRecord) => r.exit !== undefined && (startedMs === undefined || r.exit.finishedAt.getTime() >= startedMs)
      : (r: RunRecord) => r.exit !== undefined && r.exit.finishedAt.getTime() !== before;
  const record = await waitForExit(view.dir, accept, signal, 1000, () => settledRecord(app, view.name, view.dir)).catch((error: unknown) => {
    // Removed before its exit was read: for `removed` that is the answer, with the last code known.
    if (condition === 'removed' && isSyscontainerError(error) && error.code === 'ENOTFOUND') return { startedAt: undefined, exit: view.exit };
    throw error;
  });
  if (condition === 'removed') {
    // Removal (docker run --rm's auto-remove, or a client's rm) follows the exit closely: a few
    // stats every 100 ms, not a listing of every container, keep `run --rm` short and cheap.
    const deployments = new DeploymentStore(app.settings.root);
    while (!signal.aborted && (await deployments.anyExists(view.name))) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return record.exit?.exitCode ?? 0;
}

/** The first exit of `view`'s container that finished at or after `sinceMs` (the `die` event's). */
export async function nextExit(view: ContainerView, sinceMs: number, signal: AbortSignal): Promise<number> {
  const record = await waitForExit(view.dir, (r) => r.exit !== undefined && r.exit.finishedAt.getTime() >= sinceMs - 1000, signal, 2000);
  return record.exit?.exitCode ?? 0;
}

/**
 * Runs `kill` (a signal to the running container `name`) and waits, up to `ms`, for the exit of
 * the run it hit to be recorded (or repaired as lost). Resolves whether an exit of that run is
 * recorded; a container that did not run resolves true at once.
 */
export async function exitAfterKill(app: AppContext, name: string, kill: () => Promise<void>, ms = 10_000): Promise<boolean> {
  const active = await new DeploymentStore(app.settings.root).active(name);
  if (active === undefined) return true;
  const startedMs = (await readRunRecord(active.dir)).startedAt?.getTime();
  const thisRun = (r: RunRecord) => r.exit !== undefined && (startedMs === undefined || r.exit.finishedAt.getTime() >= startedMs);
  if (!(await kill().then(() => true, () => false))) return thisRun(await settledRecord(app, name, active.dir));
  return waitForExit(active.dir, thisRun, AbortSignal.timeout(ms), 250, () => settledRecord(app, name, active.dir)).then(
    () => true,
    () => false,
  );
}
