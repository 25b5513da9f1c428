// `syscontainer serve`: the REST service. Builds the routes and services once, opens the
// listeners, and closes them on stop().
import { ContainerEventWatcher, eventJournal, OneOffRuns, QuotaStore, repairDebris, serviceFiles, TokenStore, projectLabel, type AppContext } from '../app/index.js';
import { EventLog } from './events.js';
import { ExecRegistry } from './exec-registry.js';
import type { ListenAddress } from './listen-address.js';
import { openListeners, type OpenListener } from './listeners.js';
import { Router } from './router.js';
import { containerStreamRoutes } from './routes/container-streams.js';
import { containerRoutes } from './routes/containers.js';
import { execRoutes } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { systemRoutes } from './routes/system.js';
import { requestHandlers, type RouteHandler } from './server.js';
import type { ApiServices } from './services.js';

export interface ServiceOptions {
  app: AppContext;
  version: string;
  listen: readonly ListenAddress[];
  /** Host directories any project may bind-mount (`serve --allow-bind`). */
  allowedBindSources?: readonly string[];
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
  containerRoutes(router);
  containerStreamRoutes(router);
  execRoutes(router);
  imageRoutes(router);
  return router;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const app = options.app;
  const files = serviceFiles(app.settings.root, options.tokensFile);
  const log = options.log ?? (() => undefined);
  for (const name of await repairDebris(app)) log(`removed the half-made container ${name} (a command was interrupted while making it)`);
  const journal = eventJournal(app, (error) => log(`events: cannot write ${files.events}: ${error instanceof Error ? error.message : String(error)}`));
  await journal.load();
  const events = new EventLog(journal);
  // Exits and health changes, from the containers' own records (also what happened while the service was down).
  const watcher = new ContainerEventWatcher(app);
  const shutdown = new AbortController();
  const oneOffs = new OneOffRuns(app, (run, action) => {
    const attributes: Record<string, string> = { name: run.name, image: run.image, ...(action === 'die' ? { exitCode: String(run.exitCode ?? 0) } : {}) };
    void events.emit('container', action, run.id, attributes, run.labels[projectLabel]);
  });
  const services: ApiServices = {
    app,
    tenancy: { quotas: new QuotaStore(files.quotas), oneOffs, allowedBindSources: options.allowedBindSources ?? [] },
    execs: new ExecRegistry(),
    tokens: new TokenStore(files.tokens),
    events,
    watcher,
    version: options.version,
    log,
    shutdown: shutdown.signal,
  };
  await watcher.look();
  watcher.watch(shutdown.signal);
  // What the CLI's commands write to the journal reaches open event streams.
  events.follow(shutdown.signal);
  const listeners = await openListeners({ addresses: options.listen, tls: options.tls, env: options.env }, requestHandlers(buildRouter(), services));
  return {
    listeners,
    services,
    async stop() {
      shutdown.abort();
      for (const listener of listeners) await listener.close();
    },
  };
}
