import type { ContainerSpec } from '../container-spec.js';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { SyscontainerError } from '../../common/errors.js';
import { pathExists } from '../../common/path-exists.js';
import { say, type RuntimeContext, type RuntimeImage } from '../context.js';
import { withContainerLock } from '../container-lock.js';
import { DeploymentStore, type ActiveDeployment } from '../deployment.js';
import { switchDeployment } from '../deployment-switch.js';
import { buildSlot, deploymentImage, isDeployedImage, sameValues } from '../slot-builder.js';
import { supervisorOf } from '../supervisor/choose.js';
import { unitFile } from '../unit-files.js';
import { validateSetValues } from '../values.js';
import { resolveExternalRootfs } from '../external-rootfs.js';
import type { PrivilegePolicy } from '../privileges.js';
import type { DeploymentInfo } from '../deployment.js';
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
  /** Who decides about privileges beyond the default (privileges.ts); default `consent`. */
  privilegePolicy?: PrivilegePolicy;
  /** Start it (and enable it with systemd); default true. */
  start?: boolean;
  /**
   * Use this exploded rootfs (read-only, in place) instead of a checkout, resolved as Atomic's
   * --rootfs (external-rootfs.ts). `image` then names the image the rootfs belongs to; when the
   * store does not have it, the rootfs' path is its id.
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

/** ENOTFOUND naming the runtime when it is not an executable file: checked before anything is made. */
async function checkRuntime(runtimePath: string): Promise<void> {
  const ok = await access(runtimePath, constants.X_OK).then(
    async () => (await stat(runtimePath)).isFile(),
    () => false,
  );
  if (!ok) throw new SyscontainerError('ENOTFOUND', `runtime ${runtimePath} is not installed (no executable file there)`, { hint: 'give the OCI runtime with --runtime PATH' });
}

/** Whether the installed deployment `info` is what this install would make: same image, values and rootfs. */
function sameDeployment(info: DeploymentInfo, image: RuntimeImage, options: InstallOptions, set: Readonly<Record<string, string>>, rootfs: string | undefined): boolean {
  const sameSpec = JSON.stringify(options.containerSpec ?? null) === JSON.stringify(info.containerSpec ?? null);
  return isDeployedImage(info, image) && sameSpec && sameValues(set, info.set) && rootfs === info.externalRootfs;
}

/**
 * Installs container `name` from a stored image into slot 0, publishes its unit and tmpfiles
 * file, and (unless start is false) enables and starts it. A container whose command exits 0
 * at once stays installed (Atomic installed those). When the name is taken: nothing to do
 * (changed false) when image, values and rootfs are those installed, else EEXIST (unless force).
 * EINVAL for a bad name, --set or privileges the policy refuses; ENOTFOUND for a runtime that is
 * not there. On any failure nothing of the container is left.
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
  const active = await deployments.active(name);
  const installed = active !== undefined || (await pathExists(unitFile(ctx, name)));
  if (!installed && (await deployments.anyExists(name))) {
    // Debris of an interrupted command (no complete, active deployment, no unit): clear it.
    await deployments.removeLink(name);
    await deployments.removeTree(deployments.slotDir(name, 0));
    await deployments.removeTree(deployments.slotDir(name, 1));
  }
  await checkRuntime(ctx.runtimePath);
  const rootfs = options.rootfs === undefined ? undefined : await resolveExternalRootfs(options.rootfs);
  const image = await deploymentImage(ctx, options.image, rootfs);
  if (installed) {
    if (!options.force) {
      // Atomic's answer to an install of what is installed already: nothing to do, said so.
      const same = active !== undefined && sameDeployment(active.info, image, options, set, rootfs);
      if (same) return { name, info: active.info, changed: false, started: false, privileges: active.info.privileges };
      throw new SyscontainerError('EEXIST', `container ${name} is already installed (image ${active?.info.image ?? 'unknown'}) with another image or other values: use update to change them`, {
        hint: `syscontainer update [--set KEY=VALUE]... [--rebase IMAGE] ${name}; or install --force to start over`,
      });
    }
    await uninstallHoldingLock(ctx, { name, purge: false });
  }
  const supervisor = await supervisorOf(ctx);
  const built = await buildSlot(ctx, name, 0, image, {
    set,
    allowPrivileges: options.allowPrivileges,
    privilegePolicy: options.privilegePolicy,
    revision: 1,
    service,
    ...(rootfs !== undefined ? { externalRootfs: rootfs } : {}),
    ...(options.containerSpec !== undefined ? { containerSpec: options.containerSpec } : {}),
    ...(options.owner !== undefined ? { owner: options.owner } : {}),
    labels: options.labels,
  });
  const runs = built.info.noContainerService !== true;
  const target: ActiveDeployment = { slot: 0, dir: built.dir, info: built.info };
  const stateExisted = await pathExists(built.info.stateDirectory);
  let started = false;
  let exited = false;
  let enabled = false;
  try {
    await switchDeployment(ctx, supervisor, name, target);
    if (runs && options.enable !== false) enabled = await supervisor.enable(name);
    if (options.start !== false && runs) {
      exited = (await supervisor.start(name, built.dir)) === 'exited';
      started = !exited;
    }
  } catch (error) {
    // Only a state directory this install made goes: never data of an earlier container.
    await removeContainer(ctx, supervisor, name, !stateExisted).catch(() => undefined);
    throw error;
  }
  say(ctx, `Installed ${name} from ${image.name}${started ? ' and started it' : ''}`);
  if (exited) say(ctx, `${name} exited (status 0) right after it started; it stays installed (syscontainer start ${name} runs it again)`);
  if (runs && !enabled && options.enable !== false) {
    say(ctx, `systemd is not running here: ${unitFile(ctx, name)} is written but not enabled; runc runs ${name} directly (syscontainer start/stop/restart ${name})`);
  }
  return { name, info: built.info, changed: true, started, privileges: built.info.privileges };
}
