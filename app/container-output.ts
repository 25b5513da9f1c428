// A container's output with the time and stream of each line, for the REST service's logs and
// attach, as the container's supervisor keeps it (Supervisor.outputEntries: the unit's journal
// under systemd, the deployment's container.log without).
import { setTimeout as sleep } from 'node:timers/promises';
import { supervisorOf, type JournalEntry } from '../runtime/index.js';
import type { AppContext } from './context.js';

export interface OutputQuery {
  name: string;
  dir: string;
  tail?: number;
  sinceMs?: number;
  untilMs?: number;
}

export async function containerOutput(app: AppContext, query: OutputQuery): Promise<{ entries: JournalEntry[]; cursor: string | undefined }> {
  return (await supervisorOf(app.runtime)).outputEntries(query.name, query.dir, {
    ...(query.tail !== undefined ? { lines: query.tail } : {}),
    ...(query.sinceMs !== undefined ? { sinceMs: query.sinceMs } : {}),
    ...(query.untilMs !== undefined ? { untilMs: query.untilMs } : {}),
  });
}

/** New output after `cursor`, every `pollMs`, until `signal` aborts or `stop()` says so (the container exited). */
export async function followContainerOutput(
  app: AppContext,
  query: OutputQuery & { cursor: string | undefined },
  write: (entry: JournalEntry) => void,
  signal: AbortSignal,
  stop: () => Promise<boolean>,
  pollMs = 500,
): Promise<void> {
  const supervisor = await supervisorOf(app.runtime);
  let cursor = query.cursor;
  let last = false;
  while (!signal.aborted) {
    const got = await supervisor.outputEntries(query.name, query.dir, cursor !== undefined ? { cursor } : { sinceMs: query.sinceMs ?? 0 });
    for (const entry of got.entries) write(entry);
    cursor = got.cursor ?? cursor;
    if (last) return;
    // One more read after the exit, for the lines the journal got last.
    if (await stop()) last = true;
    else await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
}
