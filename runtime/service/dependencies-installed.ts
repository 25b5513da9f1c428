// Containers a container depends on must exist when it `requires` them; a missing `wants` or
// `after` one is only worth a warning: it may be installed later, and systemd ignores it until.
import { SyscontainerError } from '../../common/errors.js';
import { say, type RuntimeContext } from '../context.js';
import { DeploymentStore } from '../deployment.js';
import type { ServiceOptions } from './service-options.js';

/** ENOTFOUND when a container `name` requires is not installed (callers check before a pull, too). */
export async function requireDependencies(root: string, name: string, service: ServiceOptions): Promise<void> {
  const deployments = new DeploymentStore(root);
  for (const other of service.requires ?? []) {
    if ((await deployments.active(other)) === undefined) {
      throw new SyscontainerError('ENOTFOUND', `container ${name} requires ${other}, which is not installed`, { hint: `install ${other} first, or use --wants` });
    }
  }
}

export async function checkDependencies(ctx: RuntimeContext, name: string, service: ServiceOptions): Promise<void> {
  await requireDependencies(ctx.root, name, service);
  const deployments = new DeploymentStore(ctx.root);
  for (const other of new Set([...(service.wants ?? []), ...(service.after ?? [])])) {
    if ((await deployments.active(other)) === undefined) say(ctx, `warning: ${name} is ordered after ${other}, which is not installed (yet)`);
  }
}
