import { SyscontainerError } from '../../common/errors.js';
import { say, type RuntimeContext } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { DeploymentStore } from '../deployment.js';
import { switchDeployment } from '../deployment-switch.js';
import { supervisorOf } from '../supervisor/choose.js';
import type { DeploymentResult } from './deployment-result.js';
import { isSyscontainerError } from '../../common/errors.js';
import { gateDeployment } from '../health/gate-deployment.js';
import { resetHealth } from '../health/health-gate.js';
import { RolledBackError } from './rolled-back-error.js';

export interface RollbackOptions {
  name: string;
  /** How long the deployment rolled back to has to report healthy; only with a check. */
  healthDeadlineMs?: number;
}

/**
 * Switches `name` back to its other deployment (unit and tmpfiles too) and restarts the
 * container if it was running. ENOTFOUND when there is no previous deployment.
 */
export async function rollback(ctx: RuntimeContext, options: RollbackOptions): Promise<DeploymentResult> {
  return withContainerLock(ctx, options.name, () => rollbackHoldingLock(ctx, options));
}

/** rollback for a caller that holds the container's lock. */
export async function rollbackHoldingLock(ctx: RuntimeContext, options: RollbackOptions): Promise<DeploymentResult> {
  const name = options.name;
  const deployments = new DeploymentStore(ctx.root);
  const current = await deployments.requireActive(name);
  const previous = await deployments.inactive(name, current.slot);
  if (previous === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} has no previous deployment to roll back to`);
  const supervisor = await supervisorOf(ctx);
  const wasRunning = await supervisor.isRunning(name);
  // Stopped by its own unit before the other deployment's unit replaces it.
  if (wasRunning) await supervisor.stop(name);
  await switchDeployment(ctx, supervisor, name, previous);
  if (wasRunning) {
    try {
      await resetHealth(previous.dir);
      await supervisor.start(name, previous.dir);
      await gateDeployment(ctx, supervisor, name, previous, options.healthDeadlineMs, `revision ${previous.info.revision}`);
    } catch (error) {
      // The deployment rolled back to does not run or is unhealthy: the one before comes back.
      await supervisor.stop(name).catch(() => undefined);
      await switchDeployment(ctx, supervisor, name, current);
      await supervisor.start(name, current.dir);
      const why = isSyscontainerError(error) ? error.message : String(error);
      throw new RolledBackError(`container ${name}: rollback to revision ${previous.info.revision} failed (${why}); revision ${current.info.revision} runs again`, current.info.revision, { cause: error });
    }
  }
  say(ctx, `Rolled ${name} back to ${previous.info.image} (revision ${previous.info.revision})`);
  return { name, info: previous.info, changed: true, started: wasRunning, privileges: previous.info.privileges };
}
