// Waiting for a container to exit (docker's wait), from the run record its own unit writes
// (runtime/exit-status.ts): an exit recorded before the wait is seen at once, one after it as
// it lands, and nothing is lost when the service restarts in between. Reading changes nothing.
import { readRunRecord, waitForExit, type RunRecord } from '../runtime/index.js';
import { isSyscontainerError } from '../common/errors.js';
import type { AppContext } from './context.js';
import { listContainerViews, type ContainerView } from './container-views.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';
export const waitConditions: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

/**
 * The exit code of `view`'s container once `condition` holds: not-running (at once when it is
 * not running), next-exit (the first exit recorded after this call), removed (that exit, and
 * the container uninstalled). Rejects when `signal` aborts.
 */
export async function waitForContainer(app: AppContext, view: ContainerView, condition: WaitCondition, signal: AbortSignal): Promise<number> {
  if (condition === 'not-running' && view.state !== 'running') return view.exit?.exitCode ?? 0;
  // not-running, while it runs: the exit of this run (finished after it started), not an earlier one.
  const startedMs = view.startedAt?.getTime();
  const before = (await readRunRecord(view.dir)).exit?.finishedAt.getTime();
  const accept =
    condition === 'not-running'
      ? (r: RunRecord) => r.exit !== undefined && (startedMs === undefined || r.exit.finishedAt.getTime() >= startedMs)
      : (r: RunRecord) => r.exit !== undefined && r.exit.finishedAt.getTime() !== before;
  const record = await waitForExit(view.dir, accept, signal).catch((error: unknown) => {
    // Removed before its exit was read: for `removed` that is the answer, with the last code known.
    if (condition === 'removed' && isSyscontainerError(error) && error.code === 'ENOTFOUND') return { startedAt: undefined, exit: view.exit };
    throw error;
  });
  if (condition === 'removed') {
    while (!signal.aborted && (await listContainerViews(app)).some((v) => v.name === view.name)) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return record.exit?.exitCode ?? 0;
}

/** The first exit of `view`'s container that finished at or after `sinceMs` (the `die` event's). */
export async function nextExit(view: ContainerView, sinceMs: number, signal: AbortSignal): Promise<number> {
  const record = await waitForExit(view.dir, (r) => r.exit !== undefined && r.exit.finishedAt.getTime() >= sinceMs - 1000, signal, 2000);
  return record.exit?.exitCode ?? 0;
}
