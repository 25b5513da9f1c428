// Starting a container without waiting to see it stay up: docker's start, for a container
// that may well be a command that runs and exits (`docker run IMAGE echo hi`). The supervisor
// starts it (systemd: the unit, which records the exit itself) under the container's lock,
// unless it runs already ('running': nothing done, docker's 304).
import { SyscontainerError } from '../common/errors.js';
import { withContainerLock } from './container-lock.js';
import type { RuntimeContext } from './context.js';
import { DeploymentStore } from './deployment.js';
import { supervisorOf } from './supervisor/choose.js';
import type { LaunchOutcome } from './supervisor/supervisor.js';

export async function launch(ctx: RuntimeContext, options: { name: string }): Promise<LaunchOutcome> {
  const name = options.name;
  return withContainerLock(ctx, name, async () => {
    const active = await new DeploymentStore(ctx.root).active(name);
    if (active === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
    return (await supervisorOf(ctx)).launch(name, active.dir);
  });
}
