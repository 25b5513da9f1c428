// Building a deployment slot: the image (stored, or an `install --rootfs` stand-in), its
// rootfs linked, config.json, unit and tmpfiles rendered and checked, the image's host files
// staged, and `info` written last, so a slot is complete or removed.
import { lstat, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import { say, warn, type RuntimeContext, type RuntimeImage } from './context.js';
import { DeploymentStore, type DeploymentInfo, type Slot } from './deployment.js';
import { stageDeploymentHostFiles } from './deployment-host-files.js';
import type { ContainerSpec } from './container-spec.js';
import { checkExternalRootfs } from './external-rootfs.js';
import type { PrivilegePolicy } from './privileges.js';
import { renderDeployment, renderHostFilesOnly, type RenderedDeployment } from './render.js';
import { slotTmpfilesName, unitName } from './unit-files.js';
import { healthRunCommand, healthServiceName, healthTimerName } from './health/health-units.js';
import type { ServiceOptions } from './service/service-options.js';
import { sha256Digest } from '../common/digest.js';
import { verifyUnit } from './unit-verification.js';

/**
 * The image an `install --rootfs` deployment records: the stored one when the store has
 * `image`, else a stand-in whose id is derived from the rootfs' path. The rootfs must be a directory.
 */
export async function externalRootfsImage<I extends RuntimeImage>(ctx: RuntimeContext<I>, image: string, rootfs: string): Promise<I> {
  const absolute = path.resolve(rootfs);
  const stats = await lstat(absolute).catch(() => undefined);
  if (stats === undefined || !stats.isDirectory()) throw new SyscontainerError('ENOTFOUND', `rootfs ${absolute} is not a directory`);
  const stored = await ctx.store.getImage(image);
  if (stored !== undefined) return stored;
  const digest = sha256Digest(`rootfs:${absolute}`);
  const standIn: RuntimeImage = {
    name: image,
    configDigest: digest,
    manifestDigest: digest,
    config: { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
  };
  return standIn as I;
}

export async function resolveImage<I extends RuntimeImage>(ctx: RuntimeContext<I>, image: string): Promise<I> {
  const found = await ctx.store.getImage(image);
  if (found === undefined) {
    throw new SyscontainerError('ENOTFOUND', `image ${image} is not in the store`, { hint: `pull it first: syscontainer pull ${image}` });
  }
  return found;
}

/**
 * The image a new deployment is built from: for an `install --rootfs` deployment (`externalRootfs`
 * given) the stored image or a stand-in (externalRootfsImage), else the stored image (resolveImage).
 */
export function deploymentImage<I extends RuntimeImage>(ctx: RuntimeContext<I>, image: string, externalRootfs: string | undefined): Promise<I> {
  return externalRootfs !== undefined ? externalRootfsImage(ctx, image, externalRootfs) : resolveImage(ctx, image);
}

/** Whether `image` is the one the deployment `info` runs: Atomic recorded the manifest digest only. Pure. */
export function isDeployedImage(info: DeploymentInfo, image: RuntimeImage): boolean {
  return info.origin === 'atomic' ? image.manifestDigest === info.manifestDigest : image.configDigest === info.imageId && image.manifestDigest === info.manifestDigest;
}

/** Whether two --set records hold the same values, whatever their order. Pure. */
export function sameValues(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const sorted = (values: Readonly<Record<string, string>>) => JSON.stringify(Object.entries(values).sort());
  return sorted(a) === sorted(b);
}

/**
 * Builds a complete deployment in `slot` from scratch: checkout, render, checks, files, and
 * `info` last. On failure the slot is removed and the error rethrown.
 */
export async function buildSlot<I extends RuntimeImage>(
  ctx: RuntimeContext<I>,
  name: string,
  slot: Slot,
  image: I,
  options: {
    set: Record<string, string>;
    previousUuid?: string;
    allowPrivileges?: boolean;
    privilegePolicy?: PrivilegePolicy;
    consentedPrivileges?: readonly string[];
    revision: number;
    /** `install --rootfs`: use this exploded rootfs (read-only) instead of a checkout. */
    externalRootfs?: string;
    containerSpec?: ContainerSpec;
    owner?: Record<string, unknown>;
    /** The creator's labels (the REST service's project among them); kept in info. */
    labels?: Readonly<Record<string, string>>;
    /** Health check, restart policy, ordering, notify, auto-update (validated). */
    service: ServiceOptions;
  },
): Promise<{ dir: string; info: DeploymentInfo }> {
  const deployments = new DeploymentStore(ctx.root);
  const dir = await deployments.prepareSlot(name, slot);
  try {
    // DESTDIR/rootfs links the rootfs, which is used in place, read-only (config.json says so
    // whatever the image's template does): the image's shared one, or an `install --rootfs` one.
    const rootfs = path.join(dir, 'rootfs');
    let rootPath: string;
    if (options.externalRootfs !== undefined) {
      say(ctx, `Using the rootfs at ${options.externalRootfs} for ${image.name}`);
      rootPath = options.externalRootfs;
      await symlink(rootPath, rootfs);
    } else {
      rootPath = await ctx.store.withRootfs(image, async (shared) => {
        await symlink(shared, rootfs);
        return shared;
      });
    }
    const renderInput = {
      name,
      destDir: dir,
      rootfs: rootPath,
      rootPath,
      image,
      runtimePath: ctx.runtimePath,
      set: options.set,
      previousUuid: options.previousUuid,
      allowPrivileges: options.allowPrivileges,
      privilegePolicy: options.privilegePolicy,
      consentedPrivileges: options.consentedPrivileges,
      root: ctx.root,
      ...(options.containerSpec !== undefined ? { containerSpec: options.containerSpec } : {}),
      service: options.service,
      // The health unit runs the light entry of the CLI that installs, with the same root.
      healthRunCommand: healthRunCommand(ctx.healthCli ?? ctx.cli ?? [process.execPath, process.argv[1] ?? 'syscontainer'], ctx.root, name),
    };
    const hostOnly = await renderHostFilesOnly(renderInput);
    const rendered = hostOnly === undefined ? await renderDeployment(renderInput) : undefined;
    const values = hostOnly?.values ?? (rendered as RenderedDeployment).values;
    const hostFiles = await stageDeploymentHostFiles(ctx, { dir, rootfs: rootPath, manifest: hostOnly?.manifest ?? rendered?.manifest, values, imageName: image.name });
    // A rootfs given by --rootfs is someone else's: runc must find every mount point there.
    if (rendered !== undefined && options.externalRootfs !== undefined) await checkExternalRootfs(rootPath, rendered.spec, options.externalRootfs);
    if (rendered !== undefined) {
      await deployments.writeSlotFile(dir, 'config.json', rendered.configJson);
      // The container spec's inline files (a ConfigMap's), mounted read-only from here.
      for (const file of rendered.files) {
        await mkdir(path.dirname(path.join(dir, file.path)), { recursive: true, mode: 0o755 });
        await deployments.writeSlotFile(dir, file.path, file.content, file.mode);
      }
      await deployments.writeSlotFile(dir, unitName(name), rendered.unit);
      if (rendered.tmpfiles !== undefined) await deployments.writeSlotFile(dir, slotTmpfilesName(name), rendered.tmpfiles);
      const units = [{ unit: unitName(name), text: rendered.unit, ours: !rendered.unitFromImage }];
      if (rendered.healthUnits !== undefined) {
        await deployments.writeSlotFile(dir, healthServiceName(name), rendered.healthUnits.service);
        await deployments.writeSlotFile(dir, healthTimerName(name), rendered.healthUnits.timer);
        units.push({ unit: healthServiceName(name), text: rendered.healthUnits.service, ours: true }, { unit: healthTimerName(name), text: rendered.healthUnits.timer, ours: true });
      }
      // The slot first (the health units beside the unit), then the unit directory (containers it Requires=).
      for (const { unit, text, ours } of units) {
        const verified = await verifyUnit(ctx.systemd, ctx.unitDir, { file: path.join(dir, unit), text, name, imageName: image.name, ours });
        if (verified.errors.length > 0) {
          throw new SyscontainerError('ETEMPLATE', `unit ${unit} rendered for image ${image.name} does not pass systemd-analyze verify: ${verified.errors.join(' / ')}`);
        }
        for (const warning of verified.warnings) warn(ctx, `unit ${unit} of image ${image.name}: ${warning}`);
      }
    } else {
      // Only the host files are installed: nothing runs from the rootfs, so it is not linked.
      await rm(rootfs, { force: true });
      say(ctx, `${image.name} declares noContainerService: installing its host files only`);
    }
    const info: DeploymentInfo = {
      version: 1,
      name,
      image: image.name,
      imageId: image.configDigest,
      manifestDigest: image.manifestDigest,
      set: options.set,
      values,
      created: new Date().toISOString(),
      runtime: ctx.runtimePath,
      revision: options.revision,
      privileged: (rendered?.privileges.length ?? 0) > 0,
      privileges: rendered?.privileges ?? [],
      source: rendered?.source ?? 'exports',
      command: rendered?.spec.process.args ?? [],
      stateDirectory: rendered?.stateDirectory ?? `${values.STATE_DIRECTORY}/${name}`,
      hasTmpfiles: rendered?.tmpfiles !== undefined,
      exposedPorts: rendered?.exposedPorts ?? [],
      ...(hostFiles.length > 0 ? { hostFiles } : {}),
      ...(rendered === undefined ? { noContainerService: true } : {}),
      ...(options.externalRootfs !== undefined ? { externalRootfs: options.externalRootfs } : {}),
      ...(options.containerSpec !== undefined ? { containerSpec: options.containerSpec } : {}),
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
      ...(options.labels !== undefined ? { labels: { ...options.labels } } : {}),
      ...(Object.keys(options.service).length > 0 ? { service: options.service } : {}),
      ...(rendered?.healthcheck !== undefined ? { healthcheck: rendered.healthcheck } : {}),
      ...(rendered?.notify ? { notify: true } : {}),
    };
    await deployments.writeInfo(dir, info);
    return { dir, info };
  } catch (error) {
    await deployments.removeTree(dir).catch(() => undefined);
    throw error;
  }
}
