import type { RuntimeContext } from '../context.js';
import { DeploymentStore } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';
import type { ActiveDeployment } from '../deployment.js';
import { containerHealth, type ContainerHealth } from '../health/container-health.js';
import { dependenciesOf, type Dependencies } from '../service/service-options.js';
import { readRunRecord, type ContainerExit } from '../exit-status.js';

/** What status shows of the service options and the health check. */
async function serviceFields(active: ActiveDeployment, timer: boolean): Promise<Pick<ContainerStatus, 'health' | 'dependencies' | 'restart' | 'restartRetries' | 'notify' | 'autoUpdate'>> {
  const service = active.info.service;
  return {
    ...(active.info.healthcheck !== undefined ? { health: await containerHealth(active.dir, active.info.healthcheck, timer) } : {}),
    dependencies: dependenciesOf(service),
    ...(service?.restart !== undefined ? { restart: service.restart } : {}),
    ...(service?.restartRetries !== undefined ? { restartRetries: service.restartRetries } : {}),
    ...(active.info.notify ? { notify: true } : {}),
    ...(service?.autoUpdate ? { autoUpdate: true } : {}),
  };
}

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
  /** The health check and its last results; absent when the container has no check. */
  health?: ContainerHealth;
  /** Containers this one is ordered after (Requires=/Wants=/After=). */
  dependencies: Dependencies;
  restart?: string;
  /** With on-failure: the most restarts until the next start. */
  restartRetries?: number;
  /** How often the restart policy ran it again since its last explicit start. */
  restarts: number;
  notify?: boolean;
  autoUpdate?: boolean;
  /** How its last run ended, when it does not run now and a run was recorded. */
  lastExit?: ContainerExit;
  /** What it was granted beyond the default confinement, one line each. */
  privileges: string[];
  /** Who wrote the deployment: syscontainer, or atomic (a host atomic managed). */
  origin: 'syscontainer' | 'atomic';
}

/** The installed container's deployment and its supervisor's view of it; ENOTFOUND when not installed. */
export async function status(ctx: RuntimeContext, options: { name: string }): Promise<ContainerStatus> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  const supervisor = await supervisorOf(ctx);
  const supervised = await supervisor.status(options.name, active.dir);
  const exit = (await readRunRecord(active.dir)).exit;
  return {
    name: options.name,
    image: active.info.image,
    imageId: active.info.imageId,
    runtime: active.info.runtime,
    deployment: active.dir,
    revision: active.info.revision,
    privileges: active.info.privileges,
    origin: active.info.origin ?? 'syscontainer',
    state: supervised.state,
    pid: supervised.pid,
    managedBy: supervisor.kind,
    enabled: supervised.enabled,
    details: supervised.details,
    restarts: supervised.restarts,
    ...(supervised.pid === undefined && exit !== undefined ? { lastExit: exit } : {}),
    ...(await serviceFields(active, supervisor.schedulesHealthChecks)),
  };
}
