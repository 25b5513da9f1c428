// What happens to containers on its own, for the REST service's events: a `die` when a
// container's unit records an exit (whoever stopped it: a client, the CLI, systemd's restart
// policy, a crash) and a `health_status` for every change its health checks recorded. Both are
// read from the records the container's own unit and timer write (runtime/exit-status.ts,
// the health record's `changes`), with the times written there, so a change that flipped back
// between two looks is not missed and a restart of the service loses nothing: what was already
// told is known from the events kept before (`told`).
import { DeploymentStore, readHealthState, readRunRecord } from '../runtime/index.js';
import type { AppContext } from './context.js';
import { containerId } from './container-views.js';
import type { RecordedEvent } from './event-journal.js';
import { projectLabel } from './tenancy.js';

export type ObservedEvent = Omit<RecordedEvent, 'type'> & { type: 'container' };

const healthPrefix = 'health_status: ';

export class ContainerEventWatcher {
  /** Per container id: the time (ms) of the last die told, and of the last health change told. */
  private readonly lastDie = new Map<string, number>();
  private readonly lastHealth = new Map<string, number>();
  private busy: Promise<void> | undefined;

  constructor(
    private readonly app: AppContext,
    private readonly emit: (event: ObservedEvent) => void,
    told: readonly RecordedEvent[] = [],
  ) {
    for (const event of told) {
      // Whole ms, as the records' times are (timeNano is not exact in a double).
      const ms = Math.round(event.timeNano / 1e6);
      if (event.action === 'die') this.lastDie.set(event.id, Math.max(ms, this.lastDie.get(event.id) ?? 0));
      if (event.action.startsWith(healthPrefix)) this.lastHealth.set(event.id, Math.max(ms, this.lastHealth.get(event.id) ?? 0));
    }
  }

  /** One look at every container (or the one named): emits what changed since the last. Never rejects. */
  look(only?: string): Promise<void> {
    // One look at a time: a second waits for the first, then looks again (it may be for a newer exit).
    const next = (this.busy ?? Promise.resolve()).then(() => this.lookNow(only)).catch(() => undefined);
    this.busy = next;
    return next;
  }

  private async lookNow(only?: string): Promise<void> {
    const all = await new DeploymentStore(this.app.settings.root).activeDeployments();
    for (const { name, active } of all) {
      if (only !== undefined && name !== only) continue;
      if (active.info.noContainerService) continue;
      const id = containerId(name, active.info.values.UUID);
      const project = active.info.labels?.[projectLabel];
      const attributes: Record<string, string> = { name, image: active.info.image, ...(project !== undefined ? { [projectLabel]: project } : {}) };
      const record = await readRunRecord(active.dir);
      const exitMs = record.exit?.finishedAt.getTime();
      if (record.exit !== undefined && exitMs !== undefined && exitMs > (this.lastDie.get(id) ?? 0)) {
        this.lastDie.set(id, exitMs);
        this.emit({ type: 'container', action: 'die', id, attributes: { ...attributes, exitCode: String(record.exit.exitCode) }, timeNano: exitMs * 1e6 });
      }
      if (active.info.healthcheck === undefined) continue;
      const health = await readHealthState(active.dir);
      for (const change of health?.changes ?? []) {
        const at = Date.parse(change.at);
        if (!(at > (this.lastHealth.get(id) ?? 0))) continue;
        this.lastHealth.set(id, at);
        this.emit({ type: 'container', action: `${healthPrefix}${change.status}`, id, attributes, timeNano: at * 1e6 });
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
