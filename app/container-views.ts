// Installed containers as a front end shows them: name, a stable 64-hex id (from the name and
// the deployment's UUID, so it survives updates and restarts), image, labels, and the state
// read from runc and the unit's own run record (created, running, exited with its code).
// One `runc list` for the whole listing, not a process per container.
import { createHash } from 'node:crypto';
import { DeploymentStore, readHealthState, readRestartCount, readRunRecord, runcOf, type ContainerExit, type ContainerSpec, type HealthState, type RestartPolicy } from '../runtime/index.js';
import type { ImageConfig } from '../store/index.js';
import type { AppContext } from './context.js';

export type ContainerStateName = 'created' | 'running' | 'exited';

export interface ContainerView {
  id: string;
  name: string;
  image: string;
  imageId: string;
  /** The command the container runs (entrypoint and cmd). */
  command: string[];
  created: string;
  labels: Record<string, string>;
  state: ContainerStateName;
  pid: number | undefined;
  startedAt: Date | undefined;
  exit: ContainerExit | undefined;
  containerSpec: ContainerSpec | undefined;
  restart: RestartPolicy;
  /** With on-failure: the most restarts it gets (docker's MaximumRetryCount); undefined: no count. */
  restartRetries: number | undefined;
  /** Its health check's state, when it has a check (starting until the first result). */
  health: HealthState | undefined;
  /** How often its monitor ran it again since its last explicit start (runc-direct; 0 under systemd, which counts its own: status). */
  restartCount: number;
  /** The active deployment's directory (where the run record is). */
  dir: string;
  runtime: string;
}

export function containerId(name: string, uuid: string | undefined): string {
  return createHash('sha256').update(`${name}\0${uuid ?? ''}`).digest('hex');
}

/** The config a container runs with (the image's with the container spec over it), for inspect. */
export function effectiveConfig(config: ImageConfig, spec: ContainerSpec | undefined): { Entrypoint: string[]; Cmd: string[]; Env: string[]; WorkingDir: string; User: string } {
  const image = config.config ?? {};
  const env = new Map((image.Env ?? []).map((e) => [e.split('=', 1)[0] as string, e]));
  for (const [key, value] of Object.entries(spec?.env ?? {})) env.set(key, `${key}=${value}`);
  return {
    Entrypoint: spec?.command ?? image.Entrypoint ?? [],
    Cmd: spec?.args ?? (spec?.command !== undefined ? [] : (image.Cmd ?? [])),
    Env: [...env.values()],
    WorkingDir: spec?.workingDir ?? image.WorkingDir ?? '',
    User: spec?.user ?? image.User ?? '',
  };
}

/**
 * Every installed container's view. `askRunc: false` is for a caller that needs only which
 * containers there are (name, id, labels): no `runc list`, and no view says running then.
 */
export async function listContainerViews(app: AppContext, options: { askRunc?: boolean } = {}): Promise<ContainerView[]> {
  const deployments = new DeploymentStore(app.settings.root);
  // runc's states and the deployments' records read at once: one `runc list`, each file once.
  const askRunc = options.askRunc !== false;
  const [states, all] = await Promise.all([askRunc ? runcOf(app.runtime).list().catch(() => []) : [], deployments.activeDeployments()]);
  const runc = new Map(states.map((s) => [s.id, s]));
  const deployed = all.filter(({ active }) => !active.info.noContainerService);
  const records = await Promise.all(deployed.map(({ active }) => readRunRecord(active.dir)));
  const healths = await Promise.all(deployed.map(({ active }) => (active.info.healthcheck === undefined ? undefined : readHealthState(active.dir))));
  const restarts = await Promise.all(deployed.map(({ active }) => readRestartCount(active.dir)));
  const views: ContainerView[] = [];
  for (const [i, { name, active }] of deployed.entries()) {
    const record = records[i]!;
    const health = healths[i];
    const live = runc.get(name);
    const running = live?.status === 'running';
    views.push({
      id: containerId(name, active.info.values.UUID),
      name,
      image: active.info.image,
      imageId: active.info.imageId,
      command: active.info.command,
      created: active.info.created,
      labels: active.info.labels ?? {},
      state: running ? 'running' : record.exit !== undefined || record.startedAt !== undefined ? 'exited' : 'created',
      pid: running ? live?.pid : undefined,
      startedAt: record.startedAt,
      exit: running ? undefined : record.exit,
      containerSpec: active.info.containerSpec,
      restart: active.info.service?.restart ?? 'on-failure',
      restartRetries: active.info.service?.restartRetries,
      // A check that has not reported yet for this run is starting (docker's word).
      health: active.info.healthcheck === undefined ? undefined : running ? (health ?? { version: 1, status: 'starting', failingStreak: 0, log: [] }) : health,
      dir: active.dir,
      runtime: active.info.runtime,
      restartCount: restarts[i]!,
    });
  }
  return views;
}

/** The container `ref` names: its name (a leading / allowed, as docker writes names), id, or a unique id prefix. */
export function findView(views: readonly ContainerView[], ref: string): ContainerView | undefined {
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  const byName = views.find((v) => v.name === name);
  if (byName !== undefined) return byName;
  if (!/^[0-9a-f]{1,64}$/.test(ref)) return undefined;
  const matches = views.filter((v) => v.id.startsWith(ref));
  return matches.length === 1 ? matches[0] : undefined;
}

export interface ContainerHealth {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Undefined until its first check of this deployment has run. */
  health: HealthState | undefined;
}

/** The recorded health of every container that has a check: files only (no runc), for a watcher that looks often. */
export async function containerHealthStates(app: AppContext): Promise<ContainerHealth[]> {
  const checked = (await new DeploymentStore(app.settings.root).activeDeployments()).filter(({ active }) => active.info.healthcheck !== undefined);
  return Promise.all(
    checked.map(async ({ name, active }) => ({
      id: containerId(name, active.info.values.UUID),
      name,
      image: active.info.image,
      labels: active.info.labels ?? {},
      health: await readHealthState(active.dir),
    })),
  );
}
