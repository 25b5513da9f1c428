// The events of containers and images (what GET /events streams), kept on disk so that both
// front ends' actions reach it and a restart of the service keeps the history `since` asks
// for: one JSON line per event in ROOT/.service/events.jsonl (0600: names and projects are in
// it). Several processes write it (the service, each CLI command): every append holds the
// journal's lock (common/file-lock.ts, ROOT/.service/events.jsonl.lock), reads what others
// appended first, and may be made conditional (`once`: an event already there, with the same
// time, is not written again: two processes telling of one exit tell it once). Bounded: when
// the file holds twice `capacity` lines, the appender rewrites it (through a temporary name,
// still holding the lock) with the last `capacity`. A reader follows the file by offset (and
// reads it whole again after a rewrite); a line that does not parse (a crash mid-append) is
// skipped.
import { appendFile, mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { withLock } from '../common/file-lock.js';

export interface RecordedEvent {
  type: 'container' | 'image';
  action: string;
  id: string;
  attributes: Record<string, string>;
  /** Nanoseconds since the epoch. */
  timeNano: number;
}

function isRecordedEvent(v: unknown): v is RecordedEvent {
  const e = v as RecordedEvent;
  return (
    typeof v === 'object' &&
    v !== null &&
    (e.type === 'container' || e.type === 'image') &&
    typeof e.action === 'string' &&
    typeof e.id === 'string' &&
    Number.isFinite(e.timeNano) &&
    typeof e.attributes === 'object' &&
    e.attributes !== null &&
    Object.values(e.attributes).every((a) => typeof a === 'string')
  );
}

/** What makes two records one event: the same thing happening to the same object at the same time. */
function sameEvent(a: RecordedEvent, b: RecordedEvent): boolean {
  return a.timeNano === b.timeNano && a.id === b.id && a.action === b.action && a.type === b.type;
}

function parseLines(text: string): { events: RecordedEvent[]; lines: number } {
  const events: RecordedEvent[] = [];
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lines += 1;
    try {
      const value: unknown = JSON.parse(line);
      if (isRecordedEvent(value)) events.push(value);
    } catch {
      // Half a line from a crash: the rest is still good.
    }
  }
  return { events, lines };
}

export class EventJournal {
  private events: RecordedEvent[] = [];
  /** Lines in the file as last read, how many bytes of it were read, and which file (inode) it was. */
  private onDisk = 0;
  private offset = 0;
  private inode: number | undefined;
  /** Whether events were dropped from the front (the file was rewritten, or read after a rewrite). */
  private trimmed = false;
  private reading: Promise<RecordedEvent[]> | undefined;
  private readonly listeners = new Set<(event: RecordedEvent) => void>();
  private appending: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly capacity = 1000,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Reads what is kept (none when the file is missing). */
  async load(): Promise<void> {
    await this.refresh();
  }

  /** The events read so far, oldest first (the last `capacity`). */
  all(): readonly RecordedEvent[] {
    return this.events;
  }

  /** Events before this time (ns) may have been dropped to bound the journal; 0 when none was. */
  horizon(): number {
    return this.trimmed ? (this.events[0]?.timeNano ?? 0) : 0;
  }

  /** `listener` gets each event as it is read, whoever wrote it (this process or another), once. */
  subscribe(listener: (event: RecordedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads what any writer appended since the last read (handing it to the subscribers); resolves with those events, oldest first. */
  refresh(): Promise<RecordedEvent[]> {
    // One read at a time: a second caller gets the same answer's successor, not a half-read.
    const next = (this.reading ?? Promise.resolve([]))
      .catch(() => [])
      .then(() => this.readNew())
      .then((fresh) => {
        for (const event of fresh) for (const listener of this.listeners) listener(event);
        return fresh;
      });
    this.reading = next;
    return next;
  }

  private async readNew(): Promise<RecordedEvent[]> {
    const info = await stat(this.file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info === undefined) return [];
    if (info.ino !== this.inode || info.size < this.offset) {
      // First read, or rewritten by an appender: read it whole; new are those after the last known.
      const text = await readFile(this.file, 'utf8');
      const { events, lines } = parseLines(text.slice(0, text.lastIndexOf('\n') + 1));
      const last = this.events.at(-1);
      let known = -1;
      if (last !== undefined) for (let i = events.length - 1; i >= 0 && known < 0; i--) if (sameEvent(events[i] as RecordedEvent, last)) known = i;
      const fresh = last === undefined ? events : known >= 0 ? events.slice(known + 1) : events.filter((e) => e.timeNano >= last.timeNano && !this.events.some((k) => sameEvent(k, e)));
      this.trimmed ||= this.inode !== undefined || lines >= this.capacity;
      this.inode = info.ino;
      this.offset = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
      this.onDisk = lines;
      this.keep(events);
      return fresh;
    }
    if (info.size === this.offset) return [];
    const handle = await open(this.file, 'r');
    try {
      const bytes = Buffer.alloc(info.size - this.offset);
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, this.offset);
      // Only whole lines: the rest is being written.
      const end = bytes.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
      const { events, lines } = parseLines(bytes.subarray(0, end).toString('utf8'));
      this.offset += end;
      this.onDisk += lines;
      this.keep([...this.events, ...events]);
      return events;
    } finally {
      await handle.close();
    }
  }

  private keep(events: RecordedEvent[]): void {
    if (events.length > this.capacity) this.trimmed = true;
    this.events = events.slice(-this.capacity);
  }

  /**
   * Writes `event` after what others wrote; with `once`, not when the same event (type, action,
   * id, time) is already kept. Resolves whether it was written; a write that fails goes to
   * onError and resolves false (telling of events never fails an operation).
   */
  append(event: RecordedEvent, options: { once?: boolean } = {}): Promise<boolean> {
    // One append at a time in this process (the file lock's waiters poll: they are for other processes).
    const next = this.appending.then(() => this.appendLocked(event, options));
    this.appending = next;
    return next;
  }

  private async appendLocked(event: RecordedEvent, options: { once?: boolean }): Promise<boolean> {
    try {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      return await withLock(`${this.file}.lock`, { mode: 'exclusive', what: 'event journal', waitMs: 30_000 }, async () => {
        await this.refresh();
        if (options.once === true && this.events.some((e) => sameEvent(e, event))) return false;
        if (this.onDisk + 1 > 2 * this.capacity) {
          const kept = [...this.events, event].slice(-this.capacity);
          await writeFileAtomic(this.file, kept.map((e) => `${JSON.stringify(e)}\n`).join(''), 0o600);
        } else {
          await appendFile(this.file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
        }
        // Read back as any writer's event would be (the file may have been rewritten): one path for all.
        await this.refresh();
        return true;
      });
    } catch (error) {
      this.onError(error);
      return false;
    }
  }
}
