// What the routes reach: the application layer's operations and context, the token and quota
// stores, the event log. Built once by the service (api/service.ts).
import type { QuotaStore, TokenStore } from '../app/index.js';
import type { Principal } from './auth.js';
import type { EventLog } from './events.js';

export interface ServiceCounts {
  total: number;
  running: number;
  images: number;
  cgroupVersion: '1' | '2';
  runtimePath: string;
}

export interface ApiServices {
  tokens: TokenStore;
  quotas: QuotaStore;
  events: EventLog;
  /** syscontainer's version. */
  version: string;
  /** Where the store and deployments live (for /info). */
  root: string;
  /** Lines for the service's log (stderr, the journal under systemd). */
  log: (line: string) => void;
  /** What /info reports, as `principal` may see it. */
  containerCounts(principal: Principal): Promise<ServiceCounts>;
}
