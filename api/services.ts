// What the routes reach: the application layer's context (and through it its operations), the
// REST service's tenancy (quotas, the one-off runs of `docker run --rm`), the tokens, the event
// log (with the watcher of what containers do on their own) and the execs. Built once by the service (api/service.ts).
import type { AppContext, ContainerEventWatcher, Tenancy, TokenStore } from '../app/index.js';
import type { EventLog } from './events.js';
import type { ExecRegistry } from './exec-registry.js';

export interface ApiServices {
  app: AppContext;
  tenancy: Tenancy;
  execs: ExecRegistry;
  tokens: TokenStore;
  events: EventLog;
  /** Tells the event log of exits and health changes; look(name) at once after acting on one. */
  watcher: ContainerEventWatcher;
  /** syscontainer's version. */
  version: string;
  /** Lines for the service's log (stderr, the journal under systemd). */
  log: (line: string) => void;
  /** Aborted when the service stops: background watchers end with it. */
  shutdown: AbortSignal;
}
