// `syscontainer serve`: the REST service. Builds the routes and services once, opens the
// listeners, and closes them on stop().
import { QuotaStore, serviceFiles, TokenStore } from '../app/index.js';
import { EventLog } from './events.js';
import type { ListenAddress } from './listen-address.js';
import { openListeners, type OpenListener } from './listeners.js';
import { Router } from './router.js';
import { systemRoutes } from './routes/system.js';
import { requestHandlers, type RouteHandler } from './server.js';
import type { ApiServices } from './services.js';

export interface ServiceOptions {
  root: string;
  version: string;
  listen: readonly ListenAddress[];
  tokensFile?: string;
  tls?: { certFile: string; keyFile: string };
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunningService {
  listeners: OpenListener[];
  services: ApiServices;
  stop(): Promise<void>;
}

export function buildRouter(): Router<RouteHandler> {
  const router = new Router<RouteHandler>();
  systemRoutes(router);
  return router;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const files = serviceFiles(options.root, options.tokensFile);
  const services: ApiServices = {
    tokens: new TokenStore(files.tokens),
    quotas: new QuotaStore(files.quotas),
    events: new EventLog(),
    version: options.version,
    root: options.root,
    log: options.log ?? (() => undefined),
    containerCounts: async () => ({ total: 0, running: 0, images: 0, cgroupVersion: '2', runtimePath: 'runc' }),
  };
  const listeners = await openListeners({ addresses: options.listen, tls: options.tls, env: options.env }, requestHandlers(buildRouter(), services));
  return {
    listeners,
    services,
    async stop() {
      for (const listener of listeners) await listener.close();
    },
  };
}
