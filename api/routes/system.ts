// /_ping, /version, /info and /events: what every docker client asks first, and the event stream.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { visibleTargets } from '../container-target.js';
import { apiVersion, minApiVersion } from '../api-version.js';
import { eventMatches, type ApiEvent } from '../events.js';
import { parseFilters } from '../filters.js';
import { HttpError } from '../http-error.js';
import type { RouteCall, RouteHandler } from '../server.js';
import type { Router } from '../router.js';

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

async function ping(call: RouteCall): Promise<void> {
  call.reply.send(200, 'OK', { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '' });
}

async function version(call: RouteCall): Promise<void> {
  const details = { ApiVersion: apiVersion, MinAPIVersion: minApiVersion, Os: 'linux', Arch: goArch[process.arch] ?? process.arch, KernelVersion: os.release() };
  call.reply.json(200, {
    Platform: { Name: 'syscontainer' },
    Components: [{ Name: 'Engine', Version: call.services.version, Details: { ...details, GoVersion: `node ${process.version}`, GitCommit: '' } }],
    Version: call.services.version,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    BuildTime: '',
    ...details,
  });
}

async function info(call: RouteCall): Promise<void> {
  const targets = await visibleTargets(call);
  const images = await call.services.app.store.listImages().catch(() => []);
  const root = call.services.app.settings.root;
  const cgroupVersion = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
  const running = targets.filter((t) => (t.kind === 'unit' ? t.view.state : t.run.state) === 'running').length;
  const counts = { total: targets.length, running, images: images.length, cgroupVersion, runtimePath: call.services.app.settings.runtimePath };
  call.reply.json(200, {
    ID: 'syscontainer',
    Name: os.hostname(),
    ServerVersion: call.services.version,
    Containers: counts.total,
    ContainersRunning: counts.running,
    ContainersPaused: 0,
    ContainersStopped: counts.total - counts.running,
    Images: counts.images,
    Driver: 'ostree',
    DriverStatus: [['Repository', `${root}/.storage/ostree`]],
    DockerRootDir: root,
    OperatingSystem: os.type(),
    OSType: 'linux',
    OSVersion: '',
    Architecture: os.machine(),
    KernelVersion: os.release(),
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    CgroupDriver: 'systemd',
    CgroupVersion: counts.cgroupVersion,
    DefaultRuntime: 'runc',
    Runtimes: { runc: { path: counts.runtimePath } },
    LoggingDriver: 'journald',
    SecurityOptions: [],
    Labels: [],
    Plugins: { Volume: [], Network: ['host'], Authorization: null, Log: ['journald'] },
    Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
    Warnings: [],
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    ExperimentalBuild: false,
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
  });
}

/** A docker time parameter: seconds since the epoch (fractions allowed), or an RFC 3339 time; ms. */
export function parseDockerTime(text: string | null, what: string): number | undefined {
  if (text === null || text === '') return undefined;
  if (/^\d{1,12}(\.\d{1,9})?$/.test(text)) return Number(text) * 1000;
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new HttpError(400, `${what}: expected seconds since the epoch or an RFC 3339 time`);
  return parsed;
}

async function events(call: RouteCall): Promise<void> {
  const filters = parseFilters(call.query.get('filters'), ['type', 'event', 'container', 'image', 'label']);
  const since = parseDockerTime(call.query.get('since'), 'since');
  const until = parseDockerTime(call.query.get('until'), 'until');
  const matches = (e: ApiEvent) => eventMatches(e, filters, call.principal) && (until === undefined || e.timeNano / 1e6 <= until);
  const out = call.reply.stream(200, 'application/json');
  // What the containers' records say now (an exit a moment ago) belongs in the history too.
  if (since !== undefined) await call.services.watcher.look();
  for (const event of call.services.events.history(since ?? Date.now())) if (matches(event)) out.write(`${JSON.stringify(event)}\n`);
  if (until !== undefined && until <= Date.now()) {
    out.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const unsubscribe = call.services.events.subscribe((event) => {
      if (matches(event)) out.write(`${JSON.stringify(event)}\n`);
    });
    const done = () => {
      unsubscribe();
      clearTimeout(timer);
      out.end();
      resolve();
    };
    const timer = until === undefined ? undefined : setTimeout(done, until - Date.now());
    call.reply.closed.addEventListener('abort', done, { once: true });
  });
}

export function systemRoutes(router: Router<RouteHandler>): void {
  router.add('GET', '/_ping', ping).add('GET', '/version', version).add('GET', '/info', info).add('GET', '/events', events);
}
