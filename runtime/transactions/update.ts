import { SyscontainerError, isSyscontainerError } from '../../common/errors.js';
import { say, type RuntimeContext, type RuntimeImage } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { DeploymentStore, otherSlot, type ActiveDeployment } from '../deployment.js';
import { switchDeployment } from '../deployment-switch.js';
import { releaseRootfsOf } from '../rootfs-release.js';
import { buildSlot, externalRootfsImage, resolveImage } from '../slot-builder.js';
import { supervisorOf } from '../supervisor/choose.js';
import { validateSetValues } from '../values.js';
import type { ContainerSpec } from '../container-spec.js';
import type { DeploymentResult } from './deployment-result.js';

export interface UpdateOptions {
  name: string;
  /** Switch to another image (`rebase`); default: the image name of the active deployment. */
  rebase?: string;
  /** Added to (and overriding) the --set values kept from the active deployment. */
  set?: Readonly<Record<string, string>>;
  allowPrivileges?: boolean;
  /** Make a new deployment even when image and values are unchanged. */
  force?: boolean;
  /** Replaces the container spec kept from the active deployment (default: that one, rendered again). */
  containerSpec?: ContainerSpec;
  /** Replaces the owner record kept from the active deployment. */
  owner?: Record<string, unknown>;
}

/**
 * Makes a new deployment of `name` in its other slot from scratch (the same image name, its
 * newest stored version, or `rebase`), keeping its --set values and UUID; swaps to it and
 * restarts the container if it was running. If the new one does not stay running, the
 * previous deployment is put back and started, and ERUNTIME says so.
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
  // An `install --rootfs` container keeps its rootfs until rebased onto a stored image.
  const externalRootfs = options.rebase === undefined ? current.info.externalRootfs : undefined;
  const image = externalRootfs !== undefined ? await externalRootfsImage(ctx, current.info.image, externalRootfs) : await resolveImage(ctx, options.rebase ?? current.info.image);
  const set = { ...current.info.set, ...(options.set ?? {}) };
  const sameSet = JSON.stringify(Object.entries(set).sort()) === JSON.stringify(Object.entries(current.info.set).sort());
  const containerSpec = options.containerSpec ?? current.info.containerSpec;
  const owner = options.owner ?? current.info.owner;
  const sameSpec = JSON.stringify(containerSpec) === JSON.stringify(current.info.containerSpec);
  if (!options.force && image.configDigest === current.info.imageId && image.manifestDigest === current.info.manifestDigest && sameSet && sameSpec) {
    say(ctx, `${name} is already up to date (${image.name})`);
    return { name, info: current.info, changed: false, started: false, privileges: current.info.privileges };
  }
  const supervisor = await supervisorOf(ctx);
  const slot = otherSlot(current.slot);
  // The rollback target this update replaces: its rootfs may go once the slot is rebuilt.
  const replaced = await deployments.readInfo(deployments.slotDir(name, slot));
  const built = await buildSlot(ctx, name, slot, image, {
    set,
    previousUuid: current.info.values.UUID,
    // What the user allowed for the running deployment stays allowed; anything new needs consent.
    allowPrivileges: options.allowPrivileges,
    consentedPrivileges: current.info.privileges,
    revision: current.info.revision + 1,
    ...(externalRootfs !== undefined ? { externalRootfs } : {}),
    ...(containerSpec !== undefined ? { containerSpec } : {}),
    ...(owner !== undefined ? { owner } : {}),
    restart: current.info.restart,
    labels: current.info.labels,
  });
  const wasRunning = await supervisor.isRunning(name);
  const next: ActiveDeployment = { slot, dir: built.dir, info: built.info };
  try {
    if (wasRunning) await supervisor.beforeSwitch(name);
    await switchDeployment(ctx, supervisor, name, next);
    if (wasRunning) await supervisor.restart(name, built.dir);
  } catch (error) {
    // Put the previous deployment back, as it was.
    await supervisor.stop(name).catch(() => undefined);
    await switchDeployment(ctx, supervisor, name, current);
    if (wasRunning) await supervisor.start(name, current.dir);
    // The failed deployment is not kept as a rollback target.
    await deployments.removeTree(built.dir);
    await releaseRootfsOf(ctx, [replaced, built.info]);
    const why = isSyscontainerError(error) ? error.message : String(error);
    throw new SyscontainerError('ERUNTIME', `container ${name}: update to ${image.name} failed (${why}); rolled back to ${current.info.image} (revision ${current.info.revision})`, {
      hint: isSyscontainerError(error) ? error.hint : undefined,
      cause: error,
    });
  }
  await releaseRootfsOf(ctx, [replaced]);
  say(ctx, `Updated ${name} to ${image.name}${wasRunning ? ' and restarted it' : ''}`);
  return { name, info: built.info, changed: true, started: wasRunning, privileges: built.info.privileges };
}
