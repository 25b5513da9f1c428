import type { RuntimeContext } from '../context.js';
import { DeploymentStore, type ActiveDeployment } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';
import { containerHealth } from '../health/container-health.js';
import { dependenciesOf, type Dependencies } from '../service/service-options.js';

export interface ContainerListEntry {
  name: string;
  image: string;
  /** The full image id (sha256:…). */
  imageId: string;
  command: string;
  created: string;
  state: string;
  runtime: string;
  /** starting, healthy, unhealthy; absent without a health check. */
  health?: string;
  dependencies?: Dependencies;
  autoUpdate?: boolean;
  /** Who wrote the deployment: syscontainer, or atomic (a host atomic managed). */
  origin: 'syscontainer' | 'atomic';
  /** The declaration (apply) that owns the container, if one does. */
  configId?: string;
}

/** Every installed container (complete deployments only), for `syscontainer ps`: each record read once. */
export async function list(ctx: RuntimeContext): Promise<ContainerListEntry[]> {
  const [supervisor, deployed] = await Promise.all([supervisorOf(ctx), new DeploymentStore(ctx.root).activeDeployments()]);
  const installed = deployed.map(({ name, active }): [string, ActiveDeployment] => [name, active]);
  const states = await supervisor.states(installed.map(([name, active]) => ({ name, bundle: active.dir })));
  const health = new Map<string, string>();
  await Promise.all(
    installed.map(async ([name, active]) => {
      if (active.info.healthcheck !== undefined) health.set(name, (await containerHealth(active.dir, active.info.healthcheck, supervisor.schedulesHealthChecks)).status);
    }),
  );
  return installed.map(([name, active]) => ({
    name,
    image: active.info.image,
    imageId: active.info.imageId,
    command: active.info.command.join(' '),
    created: active.info.created,
    state: states.get(name) ?? 'stopped',
    runtime: active.info.runtime,
    ...(health.has(name) ? { health: health.get(name) as string } : {}),
    ...(active.info.service?.requires || active.info.service?.wants || active.info.service?.after ? { dependencies: dependenciesOf(active.info.service) } : {}),
    ...(active.info.service?.autoUpdate ? { autoUpdate: true } : {}),
    origin: active.info.origin ?? 'syscontainer',
    ...(typeof active.info.owner?.configId === 'string' ? { configId: active.info.owner.configId } : {}),
  }));
}
