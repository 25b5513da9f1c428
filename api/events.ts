// The events of GET /events: what happened to containers and images (create, start, die with
// its exit code, stop, destroy, health_status, pull, delete), in Docker's shape, each carrying
// the project it belongs to. Kept by the application's event journal (on disk, bounded: a
// restart of the service keeps the history `since` asks for), which the application layer
// writes for both front ends' actions; followed here and handed to every open stream as read.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { maySee, projectLabel, type EventJournal, type RecordedEvent } from '../app/index.js';
import type { Principal } from './auth.js';

export interface ApiEvent {
  Type: 'container' | 'image';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Pre-1.22 fields docker's CLI still prints from. */
  status: string;
  id: string;
  from?: string;
}

export type EventFilters = Record<string, string[]>;

function dockerShape(event: RecordedEvent): ApiEvent {
  return {
    Type: event.type,
    Action: event.action,
    Actor: { ID: event.id, Attributes: event.attributes },
    scope: 'local',
    time: Math.floor(event.timeNano / 1e9),
    timeNano: event.timeNano,
    status: event.action,
    id: event.id,
    ...(event.attributes.image !== undefined ? { from: event.attributes.image } : {}),
  };
}

export class EventLog {
  constructor(private readonly journal: EventJournal) {}

  /** An event of now, done by this service (written to the journal; streams get it from there). */
  emit(type: ApiEvent['Type'], action: string, id: string, attributes: Record<string, string>, project?: string): Promise<boolean> {
    return this.journal.append({ type, action, id, attributes: { ...attributes, ...(project !== undefined ? { [projectLabel]: project } : {}) }, timeNano: Date.now() * 1_000_000 });
  }

  /** Reads what others (the CLI, the watcher) wrote to the journal since the last read. */
  async refresh(): Promise<void> {
    await this.journal.refresh().catch(() => undefined);
  }

  /**
   * Follows the journal until `signal` aborts: woken by changes in its directory, and every
   * `everyMs` besides (a watch may miss a rename), so a CLI command's events reach open streams.
   */
  follow(signal: AbortSignal, everyMs = 1000): void {
    const read = () => void this.refresh();
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(path.dirname(this.journal.file), { persistent: false }, read);
    } catch {
      // No directory yet (nothing was written): the timer reads it once it is there.
    }
    const timer = setInterval(() => {
      if (watcher === undefined) {
        try {
          watcher = watch(path.dirname(this.journal.file), { persistent: false }, read);
        } catch {
          // still none
        }
      }
      read();
    }, everyMs);
    timer.unref();
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      watcher?.close();
    }, { once: true });
  }

  /** Events at or after `sinceMs` (ms since the epoch), oldest first. */
  history(sinceMs: number): ApiEvent[] {
    return this.journal
      .all()
      .filter((e) => e.timeNano / 1_000_000 >= sinceMs)
      .map(dockerShape)
      .sort((a, b) => a.timeNano - b.timeNano);
  }

  /** `listener` gets every event as the journal is read, whoever wrote it. */
  subscribe(listener: (event: ApiEvent) => void): () => void {
    return this.journal.subscribe((event) => listener(dockerShape(event)));
  }
}

/** Docker's event filters: type, event/action, container/image (id or name), label (key or key=value). */
export function eventMatches(event: ApiEvent, filters: EventFilters, principal: Principal): boolean {
  if (!maySee(principal, event.Actor.Attributes[projectLabel])) return false;
  const one = (key: string, test: (value: string) => boolean) => filters[key] === undefined || filters[key]!.some(test);
  const names = [event.Actor.ID, event.Actor.Attributes.name ?? ''];
  return (
    one('type', (v) => v === event.Type) &&
    one('event', (v) => v === event.Action || event.Action.startsWith(`${v}:`)) &&
    one('container', (v) => event.Type === 'container' && names.some((n) => n === v || (v.length >= 4 && n.startsWith(v)))) &&
    one('image', (v) => event.Actor.Attributes.image === v || (event.Type === 'image' && names.includes(v))) &&
    one('label', (v) => {
      const [key, value] = v.split('=', 2) as [string, string | undefined];
      const actual = event.Actor.Attributes[key];
      return value === undefined ? actual !== undefined : actual === value;
    })
  );
}
