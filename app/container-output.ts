// A container's output with the time and stream of each line, for the REST service's logs: the
// unit's journal under systemd (stderr apart, at PRIORITY err: runtime/systemd.ts), the
// deployment's container.log without (one stream, no times: the file's mtime stands in).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JournalEntry } from '../runtime/index.js';
import type { AppContext } from './context.js';

export interface OutputQuery {
  name: string;
  dir: string;
  tail?: number;
  sinceMs?: number;
  untilMs?: number;
}

export async function containerOutput(app: AppContext, query: OutputQuery): Promise<{ entries: JournalEntry[]; cursor: string | undefined }> {
  const ctx = app.runtime;
  if (await ctx.systemd.isRunning()) {
    return ctx.systemd.outputEntries(`${query.name}.service`, {
      ...(query.tail !== undefined ? { lines: query.tail } : {}),
      ...(query.sinceMs !== undefined ? { sinceMs: query.sinceMs } : {}),
      ...(query.untilMs !== undefined ? { untilMs: query.untilMs } : {}),
    });
  }
  const file = path.join(query.dir, 'container.log');
  const [text, info] = await Promise.all([readFile(file, 'utf8').catch(() => ''), stat(file).catch(() => undefined)]);
  const timeUsec = (info?.mtimeMs ?? 0) * 1000;
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (query.tail !== undefined) lines = query.tail === 0 ? [] : lines.slice(-query.tail);
  return { entries: lines.map((message) => ({ timeUsec, message, stream: 'stdout' as const })), cursor: String(Buffer.byteLength(text)) };
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
  const ctx = app.runtime;
  const useJournal = await ctx.systemd.isRunning();
  let cursor = query.cursor;
  let last = false;
  while (!signal.aborted) {
    if (useJournal) {
      const got = await ctx.systemd.outputEntries(`${query.name}.service`, cursor !== undefined ? { cursor } : { sinceMs: query.sinceMs ?? 0 });
      for (const entry of got.entries) write(entry);
      cursor = got.cursor ?? cursor;
    } else {
      const file = path.join(query.dir, 'container.log');
      const bytes = await readFile(file).catch(() => Buffer.alloc(0));
      const offset = Number(cursor ?? 0);
      if (bytes.length > offset) {
        const text = bytes.subarray(offset).toString('utf8');
        for (const message of text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1)) write({ timeUsec: Date.now() * 1000, message, stream: 'stdout' });
      }
      cursor = String(bytes.length);
    }
    if (last) return;
    // One more read after the exit, for the lines the journal got last.
    if (await stop()) last = true;
    else await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
}
