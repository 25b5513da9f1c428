import type { RuntimeContext } from '../context.js';
import { DeploymentStore, type ActiveDeployment } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';

export interface ContainerListEntry {
  name: string;
  image: string;
  imageId: string;
  command: string;
  created: string;
  state: string;
  runtime: string;
}

/** Every installed container (complete deployments only), for `syscontainer ps`. */
export async function list(ctx: RuntimeContext): Promise<ContainerListEntry[]> {
  const deployments = new DeploymentStore(ctx.root);
  const supervisor = await supervisorOf(ctx);
  const installed: Array<[string, ActiveDeployment]> = [];
  for (const name of await deployments.names()) {
    const active = await deployments.active(name);
    if (active !== undefined) installed.push([name, active]);
  }
  const states = await supervisor.states(installed.map(([name]) => name));
  return installed.map(([name, active]) => ({
    name,
    image: active.info.image,
    imageId: active.info.imageId.replace(/^sha256:/, '').slice(0, 12),
    command: active.info.command.join(' '),
    created: active.info.created,
    state: states.get(name) ?? 'stopped',
    runtime: active.info.runtime,
  }));
}
