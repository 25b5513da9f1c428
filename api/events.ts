// The events of GET /events: what this service did to containers and images (create, start,
// die with its exit code, stop, destroy, health_status, pull, delete), in Docker's shape, each
// carrying the project it belongs to. Kept in memory (the last `capacity`) for `since`, and
// handed to every open stream as it happens.
import { maySee, projectLabel } from '../app/index.js';
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

export class EventLog {
  private readonly events: ApiEvent[] = [];
  private readonly listeners = new Set<(event: ApiEvent) => void>();

  constructor(private readonly capacity = 1000) {}

  emit(type: ApiEvent['Type'], action: string, id: string, attributes: Record<string, string>, project?: string): ApiEvent {
    const now = Date.now();
    const event: ApiEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: { ...attributes, ...(project !== undefined ? { [projectLabel]: project } : {}) } },
      scope: 'local',
      time: Math.floor(now / 1000),
      timeNano: now * 1_000_000,
      status: action,
      id,
      ...(attributes.image !== undefined ? { from: attributes.image } : {}),
    };
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events at or after `sinceMs` (ms since the epoch). */
  history(sinceMs: number): ApiEvent[] {
    return this.events.filter((e) => e.timeNano / 1_000_000 >= sinceMs);
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
