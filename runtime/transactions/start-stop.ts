// start, stop and restart of an installed container: the active deployment, supervised.
import type { RuntimeContext } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { DeploymentStore } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';

/** Starts the container (systemctl start, or runc run -d without systemd). Idempotent. */
export async function start(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  return withContainerLock(ctx, options.name, () => startHoldingLock(ctx, options));
}

export async function startHoldingLock(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  const supervisor = await supervisorOf(ctx);
  // unless-stopped: `stop` disabled the unit so that it stays down at boot; `start` undoes that.
  if (active.info.service?.restart === 'unless-stopped') await supervisor.enable(options.name);
  if (await supervisor.isRunning(options.name)) return;
  await supervisor.start(options.name, active.dir);
}

/** Stops the container and every process of it. Idempotent. */
export async function stop(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  return withContainerLock(ctx, options.name, () => stopHoldingLock(ctx, options));
}

export async function stopHoldingLock(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  const supervisor = await supervisorOf(ctx);
  await supervisor.stop(options.name);
  // unless-stopped (docker's): an explicit stop keeps it stopped across a reboot too.
  if (active.info.service?.restart === 'unless-stopped') await supervisor.disable(options.name);
}

/** Restarts the container (starts it when stopped); ERUNTIME when it does not stay up. */
export async function restart(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  return withContainerLock(ctx, options.name, () => restartHoldingLock(ctx, options));
}

export async function restartHoldingLock(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  await (await supervisorOf(ctx)).restart(options.name, active.dir);
}
