// The REST service's events, kept on disk so that a restart of the service keeps the history
// `GET /events?since=` asks for: one JSON line per event, appended as it happens, in
// ROOT/.service/events.jsonl (0600: names and projects are in it). Bounded: when the file
// holds twice `capacity` lines it is rewritten (through a temporary name) with the last
// `capacity`. One writer, the service; a line that does not parse (a crash mid-append) is
// skipped on load.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';

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

export class EventJournal {
  private events: RecordedEvent[] = [];
  private onDisk = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly capacity = 1000,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Reads what earlier runs kept (none when the file is missing). */
  async load(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const lines = text.split('\n').filter((line) => line !== '');
    this.onDisk = lines.length;
    const parsed: RecordedEvent[] = [];
    for (const line of lines) {
      try {
        const value: unknown = JSON.parse(line);
        if (isRecordedEvent(value)) parsed.push(value);
      } catch {
        // Half a line from a crash: the rest is still good.
      }
    }
    this.events = parsed.slice(-this.capacity);
  }

  /** The kept events, oldest first. */
  all(): readonly RecordedEvent[] {
    return this.events;
  }

  /** Keeps `event` (in memory at once, on disk in order); resolves when it is written. */
  append(event: RecordedEvent): Promise<void> {
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    this.writing = this.writing.then(() => this.write(event)).catch(this.onError);
    return this.writing;
  }

  private async write(event: RecordedEvent): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    if (this.onDisk + 1 > 2 * this.capacity) {
      // What is in memory up to this event: later ones are appended by their own writes.
      const upTo = this.events.indexOf(event);
      const kept = upTo >= 0 ? this.events.slice(0, upTo + 1) : [...this.events, event].slice(-this.capacity);
      await writeFileAtomic(this.file, kept.map((e) => `${JSON.stringify(e)}\n`).join(''), 0o600);
      this.onDisk = kept.length;
      return;
    }
    await appendFile(this.file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
    this.onDisk += 1;
  }
}
