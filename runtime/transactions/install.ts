import path from 'node:path';
import type { ContainerSpec } from '../container-spec.js';
import { SyscontainerError } from '../../common/errors.js';
import { pathExists } from '../../common/path-exists.js';
import { say, type RuntimeContext, type RuntimeImage } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { DeploymentStore, type ActiveDeployment } from '../deployment.js';
import { switchDeployment } from '../deployment-switch.js';
import { buildSlot, externalRootfsImage, resolveImage } from '../slot-builder.js';
import { supervisorOf } from '../supervisor/choose.js';
import { unitFile } from '../unit-files.js';
import { validateSetValues } from '../values.js';
import type { DeploymentResult } from './deployment-result.js';
import { checkDependencies } from '../service/dependencies-installed.js';
import { validateServiceOptions, type ServiceOptions } from '../service/service-options.js';
import { removeContainer } from './remove-container.js';
import { uninstallHoldingLock } from './uninstall.js';

export interface InstallOptions {
  name: string;
  /** Image name, id or ref as the store resolves it. */
  image: string;
  set?: Readonly<Record<string, string>>;
  /** Replace an existing container of that name (its state directory is kept). */
  force?: boolean;
  /** Consent to privileges beyond the default (`--privileged`). */
  allowPrivileges?: boolean;
  /** Start it (and enable it with systemd); default true. */
  start?: boolean;
  /**
   * Use this exploded rootfs (read-only, in place) instead of a checkout. `image` then names
   * the image the rootfs belongs to; when the store does not have it, the rootfs' path is its id.
   */
  rootfs?: string;
  /** What to set over the image's config: command, env, mounts, … (validated by render). */
  containerSpec?: ContainerSpec;
  /** The application layer's record of who declared it (apply). */
  owner?: Record<string, unknown>;
  /** Labels kept in the deployment's info (the REST service's project label among them). */
  labels?: Readonly<Record<string, string>>;
  /** Make it start at boot; default true. */
  enable?: boolean;
  /** Health check, restart policy, ordering, notify, auto-update; kept and reused by update. */
  service?: ServiceOptions;
}

/**
 * Installs container `name` from a stored image into slot 0, publishes its unit and tmpfiles
 * file, and (unless start is false) enables and starts it. Fails with EEXIST when the name is
 * taken (unless force), EINVAL for a bad name, --set or unconsented privileges. On any failure
 * nothing of the container is left.
 */
export async function install<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: InstallOptions): Promise<DeploymentResult> {
  // The whole command under the lock: "is it installed?" and the install must not interleave.
  return withContainerLock(ctx, options.name, () => installHoldingLock(ctx, options));
}

/** install for a caller that holds the container's lock. */
export async function installHoldingLock<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: InstallOptions): Promise<DeploymentResult> {
  const set = { ...(options.set ?? {}) };
  validateSetValues(set);
  const name = options.name;
  const service = validateServiceOptions(options.service, name);
  await checkDependencies(ctx, name, service);
  const deployments = new DeploymentStore(ctx.root);
  const installed = (await deployments.active(name)) !== undefined || (await pathExists(unitFile(ctx, name)));
  if (!installed && (await deployments.anyExists(name))) {
    // Debris of an interrupted command (no complete, active deployment, no unit): clear it.
    await deployments.removeLink(name);
    await deployments.removeTree(deployments.slotDir(name, 0));
    await deployments.removeTree(deployments.slotDir(name, 1));
  }
  if (installed) {
    if (!options.force) {
      throw new SyscontainerError('EEXIST', `container ${name} already exists`, {
        hint: `choose another --name, update it, or reinstall with --force`,
      });
    }
    await uninstallHoldingLock(ctx, { name, purge: false });
  }
  const image = options.rootfs === undefined ? await resolveImage(ctx, options.image) : await externalRootfsImage(ctx, options.image, options.rootfs);
  const supervisor = await supervisorOf(ctx);
  const built = await buildSlot(ctx, name, 0, image, {
    set,
    allowPrivileges: options.allowPrivileges,
    revision: 1,
    service,
    ...(options.rootfs !== undefined ? { externalRootfs: path.resolve(options.rootfs) } : {}),
    ...(options.containerSpec !== undefined ? { containerSpec: options.containerSpec } : {}),
    ...(options.owner !== undefined ? { owner: options.owner } : {}),
    labels: options.labels,
  });
  const runs = built.info.noContainerService !== true;
  const target: ActiveDeployment = { slot: 0, dir: built.dir, info: built.info };
  const stateExisted = await pathExists(built.info.stateDirectory);
  let started = false;
  let enabled = false;
  try {
    await switchDeployment(ctx, supervisor, name, target);
    if (runs && options.enable !== false) enabled = await supervisor.enable(name);
    if (options.start !== false && runs) {
      await supervisor.start(name, built.dir);
      started = true;
    }
  } catch (error) {
    // Only a state directory this install made goes: never data of an earlier container.
    await removeContainer(ctx, supervisor, name, !stateExisted).catch(() => undefined);
    throw error;
  }
  say(ctx, `Installed ${name} from ${image.name}${started ? ' and started it' : ''}`);
  if (runs && !enabled && options.enable !== false) {
    say(ctx, `systemd is not running here: ${unitFile(ctx, name)} is written but not enabled; runc runs ${name} directly (syscontainer start/stop/restart ${name})`);
  }
  return { name, info: built.info, changed: true, started, privileges: built.info.privileges };
}
