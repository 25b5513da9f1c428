import { SyscontainerError } from '../../common/errors.js';
import { pathExists } from '../../common/path-exists.js';
import { say, type RuntimeContext } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { DeploymentStore } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';
import { tmpfilesFile, unitFile } from '../unit-files.js';
import { removeContainer } from './remove-container.js';

export interface UninstallOptions {
  name: string;
  /** Also remove the container's state directory. */
  purge?: boolean;
}

/**
 * Stops and disables the container, removes its unit, tmpfiles file and both deployments. The
 * image stays in the store; `purge` also removes its state directory. ENOTFOUND when nothing
 * of the container exists; debris of a broken install is removed too.
 */
export async function uninstall(ctx: RuntimeContext, options: UninstallOptions): Promise<void> {
  return withContainerLock(ctx, options.name, () => uninstallHoldingLock(ctx, options));
}

/** uninstall for a caller that holds the container's lock. */
export async function uninstallHoldingLock(ctx: RuntimeContext, options: UninstallOptions): Promise<void> {
  const name = options.name;
  const deployments = new DeploymentStore(ctx.root);
  if (!(await deployments.anyExists(name)) && !(await pathExists(unitFile(ctx, name))) && !(await pathExists(tmpfilesFile(ctx, name)))) {
    throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
  }
  await removeContainer(ctx, await supervisorOf(ctx), name, options.purge === true);
  say(ctx, `Uninstalled ${name}`);
}
