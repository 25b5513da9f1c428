// Starting a container without waiting to see it stay up: docker's start, for a container
// that may well be a command that runs and exits (`docker run IMAGE echo hi`). The supervisor
// starts it (systemd: the unit, which records the exit itself) under the container's lock.
import { SyscontainerError } from '../common/errors.js';
import { withContainerLock } from './container-lock.js';
import type { RuntimeContext } from './context.js';
import { DeploymentStore } from './deployment.js';
import { supervisorOf } from './supervisor/choose.js';

export async function launch(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  const name = options.name;
  await withContainerLock(ctx, name, async () => {
    const active = await new DeploymentStore(ctx.root).active(name);
    if (active === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
    const supervisor = await supervisorOf(ctx);
    if (await supervisor.isRunning(name)) return;
    await supervisor.launch(name, active.dir);
  });
}
