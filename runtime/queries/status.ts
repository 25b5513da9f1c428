import type { RuntimeContext } from '../context.js';
import { DeploymentStore } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';

export interface ContainerStatus {
  name: string;
  image: string;
  imageId: string;
  /** running, stopped, failed, activating, … (systemd ActiveState/SubState or runc status) */
  state: string;
  pid: number | undefined;
  runtime: string;
  managedBy: 'systemd' | 'runc';
  enabled: boolean | undefined;
  /** systemctl status text (lists the container's processes), when systemd runs it. */
  details: string | undefined;
  deployment: string;
  revision: number;
}

/** The installed container's deployment and its supervisor's view of it; ENOTFOUND when not installed. */
export async function status(ctx: RuntimeContext, options: { name: string }): Promise<ContainerStatus> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  const supervisor = await supervisorOf(ctx);
  const supervised = await supervisor.status(options.name);
  return {
    name: options.name,
    image: active.info.image,
    imageId: active.info.imageId,
    runtime: active.info.runtime,
    deployment: active.dir,
    revision: active.info.revision,
    state: supervised.state,
    pid: supervised.pid,
    managedBy: supervisor.kind,
    enabled: supervised.enabled,
    details: supervised.details,
  };
}
