import { isSyscontainerError } from '../../common/errors.js';
import { say, type RuntimeContext, type RuntimeImage } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { rename } from 'node:fs/promises';
import { DeploymentStore, otherSlot, type ActiveDeployment, type DeploymentInfo } from '../deployment.js';
import type { PrivilegePolicy } from '../privileges.js';
import { switchDeployment } from '../deployment-switch.js';
import { releaseRootfsOf } from '../rootfs-release.js';
import { buildSlot, deploymentImage, isDeployedImage, sameValues } from '../slot-builder.js';
import { supervisorOf } from '../supervisor/choose.js';
import { validateSetValues } from '../values.js';
import type { ContainerSpec } from '../container-spec.js';
import type { DeploymentResult } from './deployment-result.js';
import { gateDeployment } from '../health/gate-deployment.js';
import { UnhealthyError } from '../health/health-gate.js';
import { checkDependencies } from '../service/dependencies-installed.js';
import { mergeServiceOptions, validateServiceOptions, type ServiceOptions } from '../service/service-options.js';
import { RolledBackError } from './rolled-back-error.js';

/** JSON with object keys sorted, to compare option records. Pure. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export interface UpdateOptions {
  name: string;
  /** Switch to another image (`rebase`); default: the image name of the active deployment. */
  rebase?: string;
  /** Added to (and overriding) the --set values kept from the active deployment. */
  set?: Readonly<Record<string, string>>;
  allowPrivileges?: boolean;
  /** Who decides about privileges beyond the default (privileges.ts); default `consent`. */
  privilegePolicy?: PrivilegePolicy;
  /** Make a new deployment even when image and values are unchanged. */
  force?: boolean;
  /** Replaces the container spec kept from the active deployment (default: that one, rendered again). */
  containerSpec?: ContainerSpec;
  /** Replaces the owner record kept from the active deployment. */
  owner?: Record<string, unknown>;
  /** Given again over the kept ones, field by field (health options one by one). */
  service?: ServiceOptions;
  /** `service` replaces the kept options whole (apply: the files say everything; a probe removed goes). */
  replaceService?: boolean;
  /** How long the new deployment has to report healthy (default from its check); only with a check. */
  healthDeadlineMs?: number;
}

/**
 * Makes a new deployment of `name` in its other slot from scratch (the same image name, its
 * newest stored version, or `rebase`), keeping its --set values and UUID; swaps to it and
 * restarts the container if it was running: the old one stopped by its own unit, the switch,
 * then the new one started. If the new one does not stay running, the previous deployment is
 * put back and started, ERUNTIME says so, and the deployment before it is still there for
 * `rollback`.
 */
export async function update<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: UpdateOptions): Promise<DeploymentResult> {
  return withContainerLock(ctx, options.name, () => updateHoldingLock(ctx, options));
}

/** update for a caller that holds the container's lock. */
export async function updateHoldingLock<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: UpdateOptions): Promise<DeploymentResult> {
  validateSetValues(options.set ?? {});
  const name = options.name;
  const deployments = new DeploymentStore(ctx.root);
  const current = await deployments.requireActive(name);
  const given = validateServiceOptions(options.service, name);
  const service = options.replaceService === true ? given : validateServiceOptions(mergeServiceOptions(current.info.service, given), name);
  await checkDependencies(ctx, name, service);
  // An `install --rootfs` container keeps its rootfs until rebased onto a stored image.
  const externalRootfs = options.rebase === undefined ? current.info.externalRootfs : undefined;
  const image = await deploymentImage(ctx, options.rebase ?? current.info.image, externalRootfs);
  const set = { ...current.info.set, ...(options.set ?? {}) };
  const sameSet = sameValues(set, current.info.set);
  const containerSpec = options.containerSpec ?? current.info.containerSpec;
  const owner = options.owner ?? current.info.owner;
  const sameSpec = JSON.stringify(containerSpec) === JSON.stringify(current.info.containerSpec);
  const sameService = canonicalJson(service) === canonicalJson(current.info.service ?? {});
  const sameImage = isDeployedImage(current.info, image);
  if (!options.force && sameImage && sameSet && sameSpec && sameService) {
    say(ctx, `${name} is already up to date (${image.name})`);
    return { name, info: current.info, changed: false, started: false, privileges: current.info.privileges };
  }
  const supervisor = await supervisorOf(ctx);
  const slot = otherSlot(current.slot);
  // The rollback target this update replaces waits aside until the new deployment runs: when
  // it does not, it is put back, and `rollback` still has it.
  const replacedDir = deployments.slotDir(name, slot);
  const replaced = await deployments.readInfo(replacedDir);
  const aside = deployments.replacedDir(name, slot);
  await deployments.removeTree(aside);
  if (replaced !== undefined) await rename(replacedDir, aside);
  const restoreReplaced = async () => {
    if (replaced === undefined) return;
    await deployments.removeTree(replacedDir);
    await rename(aside, replacedDir);
  };
  let built: { dir: string; info: DeploymentInfo };
  try {
    built = await buildSlot(ctx, name, slot, image, {
      set,
      previousUuid: current.info.values.UUID,
      // What the user allowed for the running deployment stays allowed; anything new needs consent.
      allowPrivileges: options.allowPrivileges,
      privilegePolicy: options.privilegePolicy,
      consentedPrivileges: current.info.privileges,
      revision: current.info.revision + 1,
      service,
      ...(externalRootfs !== undefined ? { externalRootfs } : {}),
      ...(containerSpec !== undefined ? { containerSpec } : {}),
      ...(owner !== undefined ? { owner } : {}),
      labels: current.info.labels,
    });
  } catch (error) {
    await restoreReplaced();
    throw error;
  }
  const wasRunning = await supervisor.isRunning(name);
  const next: ActiveDeployment = { slot, dir: built.dir, info: built.info };
  try {
    // The old container is stopped by its own unit (a PIDFile unit stops a detached runc its
    // own way), before the new unit replaces it; then the new one starts.
    if (wasRunning) await supervisor.stop(name);
    await switchDeployment(ctx, supervisor, name, next);
    if (wasRunning) {
      await supervisor.start(name, built.dir);
      await gateDeployment(ctx, supervisor, name, next, options.healthDeadlineMs);
    }
  } catch (error) {
    // Put the previous deployment back, as it was.
    await supervisor.stop(name).catch(() => undefined);
    await switchDeployment(ctx, supervisor, name, current);
    if (wasRunning) await supervisor.start(name, current.dir);
    // The failed deployment is not kept; the one it replaced is the rollback target again.
    await deployments.removeTree(built.dir);
    await restoreReplaced();
    await releaseRootfsOf(ctx, [built.info]);
    if (error instanceof UnhealthyError) {
      throw new RolledBackError(`${error.message}; rolled back to revision ${current.info.revision}`, current.info.revision, { cause: error });
    }
    const why = isSyscontainerError(error) ? error.message : String(error);
    throw new RolledBackError(`container ${name}: update to ${image.name} failed (${why}); rolled back to ${current.info.image} (revision ${current.info.revision})`, current.info.revision, {
      hint: isSyscontainerError(error) ? error.hint : undefined,
      cause: error,
    });
  }
  await deployments.removeTree(aside);
  await releaseRootfsOf(ctx, [replaced]);
  say(ctx, `Updated ${name} to ${image.name}${wasRunning ? ' and restarted it' : ''}`);
  return { name, info: built.info, changed: true, started: wasRunning, privileges: built.info.privileges };
}
