// The events of containers (what `docker events` shows), written by the application layer to
// the event journal (event-journal.ts) so that the CLI's actions reach the REST service's
// /events as the service's own do: create, start, kill, stop, restart, destroy as the
// operations do them, each with the container's project; a `die` for every exit its unit or
// monitor recorded (DESTDIR/exits, runtime/exit-status.ts: whoever stopped it, a client, the
// CLI, systemd's restart policy, a crash); a `health_status` for every change its health checks
// recorded. Dies and health changes carry the times written in those records and are written
// `once`: the operation that stopped a container and the service's watcher may both tell of one
// exit, and it is told once; what happened while no service ran is told when one starts.
import { DeploymentStore, readExitLog, readHealthState, type ActiveDeployment } from '../runtime/index.js';
import type { AppContext } from './context.js';
import { containerId } from './container-views.js';
import { EventJournal, type RecordedEvent } from './event-journal.js';
import { serviceFiles } from './service-files.js';
import { projectLabel } from './tenancy.js';

const healthPrefix = 'health_status: ';

const journals = new WeakMap<AppContext, EventJournal>();

/** The event journal of `app`'s root, one per application context. */
export function eventJournal(app: AppContext, onError?: (error: unknown) => void): EventJournal {
  let journal = journals.get(app);
  if (journal === undefined) {
    journal = new EventJournal(serviceFiles(app.settings.root).events, 1000, onError);
    journals.set(app, journal);
  }
  return journal;
}

/** What an event names a container by: its id, name, image and project. */
export interface EventSubject {
  id: string;
  attributes: Record<string, string>;
}

function subjectOf(name: string, active: ActiveDeployment): EventSubject {
  const project = active.info.labels?.[projectLabel];
  return { id: containerId(name, active.info.values.UUID), attributes: { name, image: active.info.image, ...(project !== undefined ? { [projectLabel]: project } : {}) } };
}

/** The installed container `name` as events name it; undefined when it is not installed. */
export async function eventSubject(app: AppContext, name: string): Promise<EventSubject | undefined> {
  const active = await new DeploymentStore(app.settings.root).active(name).catch(() => undefined);
  return active === undefined || active.info.noContainerService ? undefined : subjectOf(name, active);
}

/**
 * Writes `action` of `subject` at `atMs` (default now) to the journal; never rejects (a journal
 * that cannot be written is the journal's onError).
 */
export async function tellContainerEvent(app: AppContext, subject: EventSubject | undefined, action: string, extra: Record<string, string> = {}, atMs = Date.now()): Promise<void> {
  if (subject === undefined) return;
  await eventJournal(app).append({ type: 'container', action, id: subject.id, attributes: { ...subject.attributes, ...extra }, timeNano: atMs * 1e6 });
}

/** Writes `event` to the journal as it is (its own time), or as a container's, with its project. */
export async function tellEvent(app: AppContext, event: RecordedEvent, options: { once?: boolean } = {}): Promise<void> {
  await eventJournal(app).append(event, options);
}

/** Time (ms) of the last event `action` (or one starting with it) per container id in the journal. */
function lastTold(journal: EventJournal, matches: (action: string) => boolean): Map<string, number> {
  const last = new Map<string, number>();
  // Whole ms, as the records' times are (timeNano is not exact in a double).
  for (const event of journal.all()) if (matches(event.action)) last.set(event.id, Math.max(Math.round(event.timeNano / 1e6), last.get(event.id) ?? 0));
  return last;
}

/** A die for every exit of `active` recorded after `afterMs` (and after what the journal may have dropped). */
async function tellExitsOf(app: AppContext, subject: EventSubject, dir: string, afterMs: number): Promise<void> {
  const journal = eventJournal(app);
  const floor = Math.max(afterMs, Math.round(journal.horizon() / 1e6) - 1);
  for (const exit of await readExitLog(dir)) {
    const ms = exit.finishedAt.getTime();
    if (ms <= floor) continue;
    await journal.append({ type: 'container', action: 'die', id: subject.id, attributes: { ...subject.attributes, exitCode: String(exit.exitCode) }, timeNano: ms * 1e6 }, { once: true });
  }
}

/** A die for each exit of container `name` not told yet: call it before its deployment goes (uninstall) or right after stopping it. */
export async function tellExits(app: AppContext, name: string): Promise<void> {
  const active = await new DeploymentStore(app.settings.root).active(name).catch(() => undefined);
  if (active === undefined || active.info.noContainerService) return;
  const journal = eventJournal(app);
  await journal.refresh().catch(() => undefined);
  const subject = subjectOf(name, active);
  await tellExitsOf(app, subject, active.dir, lastTold(journal, (a) => a === 'die').get(subject.id) ?? 0);
}

/**
 * Tells of what containers did on their own (exits, health changes) from their records: the
 * REST service's watcher. A restart of the service loses nothing: what was already told is in
 * the journal.
 */
export class ContainerEventWatcher {
  private busy: Promise<void> | undefined;

  constructor(private readonly app: AppContext) {}

  /** One look at every container (or the one named): tells what is new since the last. Never rejects. */
  look(only?: string): Promise<void> {
    // One look at a time: a second waits for the first, then looks again (it may be for a newer exit).
    const next = (this.busy ?? Promise.resolve()).then(() => this.lookNow(only)).catch(() => undefined);
    this.busy = next;
    return next;
  }

  private async lookNow(only?: string): Promise<void> {
    const journal = eventJournal(this.app);
    await journal.refresh();
    const dies = lastTold(journal, (a) => a === 'die');
    const healths = lastTold(journal, (a) => a.startsWith(healthPrefix));
    const all = await new DeploymentStore(this.app.settings.root).activeDeployments();
    for (const { name, active } of all) {
      if (only !== undefined && name !== only) continue;
      if (active.info.noContainerService) continue;
      const subject = subjectOf(name, active);
      await tellExitsOf(this.app, subject, active.dir, dies.get(subject.id) ?? 0);
      if (active.info.healthcheck === undefined) continue;
      const health = await readHealthState(active.dir);
      for (const change of health?.changes ?? []) {
        const at = Date.parse(change.at);
        if (!(at > (healths.get(subject.id) ?? 0))) continue;
        await journal.append({ type: 'container', action: `${healthPrefix}${change.status}`, id: subject.id, attributes: subject.attributes, timeNano: at * 1e6 }, { once: true });
      }
    }
  }

  /** Looks every `everyMs` until `signal` aborts. */
  watch(signal: AbortSignal, everyMs = 1000): void {
    const timer = setInterval(() => void this.look(), everyMs);
    timer.unref();
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }
}
