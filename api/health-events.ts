// health_status events: the health checks run in each container's own timer (outside this
// service), so the service looks at their recorded states every `everyMs` and tells the event
// stream when a container's status changes, as docker's "health_status: healthy" events.
import { containerHealthStates, projectLabel, type AppContext } from '../app/index.js';
import type { EventLog } from './events.js';

export function watchHealth(app: AppContext, events: EventLog, signal: AbortSignal, everyMs = 2000): void {
  const last = new Map<string, string>();
  let busy = false;
  // The first look learns what was there before the service started; a container seen later started since: "starting" before.
  let primed = false;
  const look = async () => {
    if (busy) return;
    busy = true;
    try {
      const seen = new Set<string>();
      for (const view of await containerHealthStates(app)) {
        if (view.health === undefined) continue;
        seen.add(view.id);
        const status = view.health.status;
        const before = last.get(view.id) ?? (primed ? 'starting' : status);
        // "starting" is no event in docker either.
        if (before !== status && status !== 'starting') {
          events.emit('container', `health_status: ${status}`, view.id, { name: view.name, image: view.image }, view.labels[projectLabel]);
        }
        last.set(view.id, status);
      }
      for (const id of last.keys()) if (!seen.has(id)) last.delete(id);
      primed = true;
    } catch {
      // A listing that fails now (a container being removed) is tried again at the next look.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void look(), everyMs);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
