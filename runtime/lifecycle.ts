// Install, update, rollback, uninstall, start/stop/restart, status, exec, logs and list of
// system containers. Every command that changes state either completes or puts back what was
// there: no slot without info, no dangling ROOT/NAME, no unit whose rootfs is missing.
// With systemd running, systemd runs the container (runc is the unit's main process);
// without it (containers, CI), runc runs it directly in the background.
import { lstat, mkdir, readdir, readFile, rm, rmdir, symlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError, isSyscontainerError } from '../common/errors.js';
import { pathExists } from '../common/path-exists.js';
import { containerLockDir } from './container-lock-dir.js';
import { withLock as withFileLock } from '../common/file-lock.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { validateContainerName } from './container-name.js';
import type { RuntimeContext, RuntimeImage } from './context.js';
import { DeploymentStore, type ActiveDeployment, type DeploymentInfo, type Slot } from './deployment.js';
import { nsenterPrefix } from './command-prefix.js';
import { renderDeployment, renderHostFilesOnly, type RenderedDeployment } from './render.js';
import { removeDeploymentHostFiles, stageDeploymentHostFiles, switchDeploymentHostFiles } from './deployment-host-files.js';
import { Runc } from './runc.js';
import { rootfsInUse } from './rootfs-users.js';
import { validateSetValues } from './values.js';

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
}

export interface UpdateOptions {
  name: string;
  /** Switch to another image (`rebase`); default: the image name of the active deployment. */
  rebase?: string;
  /** Added to (and overriding) the --set values kept from the active deployment. */
  set?: Readonly<Record<string, string>>;
  allowPrivileges?: boolean;
  /** Make a new deployment even when image and values are unchanged. */
  force?: boolean;
}

export interface DeploymentResult {
  name: string;
  info: DeploymentInfo;
  /** False when update found nothing to do. */
  changed: boolean;
  /** Whether the container was (re)started. */
  started: boolean;
  privileges: string[];
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageId: string;
  /** running, stopped, failed, activating, … (systemd ActiveState/SubState or runc status) */
  state: string;
  pid: number | undefined;
  runtime: string;
  managedBy: 'systemd' | 'runc';
  enabled: boolean | undefined;
  /** systemctl status text (lists the container's processes), when systemd runs it. */
  details: string | undefined;
  deployment: string;
  revision: number;
}

export interface ContainerListEntry {
  name: string;
  image: string;
  imageId: string;
  command: string;
  created: string;
  state: string;
  runtime: string;
}

const unitName = (name: string) => `${name}.service`;
const unitFile = (ctx: RuntimeContext, name: string) => path.join(ctx.unitDir, unitName(name));
const tmpfilesFile = (ctx: RuntimeContext, name: string) => path.join(ctx.tmpfilesDir, `${name}.conf`);
const otherSlot = (slot: Slot): Slot => (slot === 0 ? 1 : 0);

function runcOf(ctx: RuntimeContext): Runc {
  return ctx.runc ?? new Runc({ runtimePath: ctx.runtimePath, prefix: nsenterPrefix() });
}

function say(ctx: RuntimeContext, line: string): void {
  ctx.log?.(line);
}

async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, content);
}

/**
 * One syscontainer command at a time per container: the exclusive lock ROOT/.NAME.lock
 * (store/lock.ts; a killed holder's lock is stale at once). A second command waits, saying
 * so, then fails with ELOCKED. Reentrant (install --force calls uninstall).
 */
async function withLock<T>(ctx: RuntimeContext, name: string, body: () => Promise<T>): Promise<T> {
  validateContainerName(name);
  return withFileLock(containerLockDir(ctx.root, name), { mode: 'exclusive', what: `container ${name}`, onWait: (message) => say(ctx, message) }, async () => {
    await repairHostFiles(ctx, name);
    return body();
  });
}

/**
 * Switching deployments changes the symlink and then the host's unit and tmpfiles files, so a
 * command killed in between leaves the host files of the other deployment (or none): make
 * them those of the active deployment again. Nothing to do when nothing is active.
 */
async function repairHostFiles(ctx: RuntimeContext, name: string): Promise<void> {
  const active = await new DeploymentStore(ctx.root).active(name);
  if (active === undefined) return;
  const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);
  const unitOk = (await read(path.join(active.dir, unitName(name)))) === (await read(unitFile(ctx, name)));
  const tmpfilesOk = active.info.hasTmpfiles
    ? (await read(path.join(active.dir, `${name}.conf`))) === (await read(tmpfilesFile(ctx, name)))
    : !(await pathExists(tmpfilesFile(ctx, name)));
  if (!unitOk || !tmpfilesOk) await publishHostFiles(ctx, name, active.dir, active.info);
}

/**
 * The image an `install --rootfs` deployment records: the stored one when the store has
 * `image`, else a stand-in whose id is derived from the rootfs' path. The rootfs must be a directory.
 */
async function externalRootfsImage<I extends RuntimeImage>(ctx: RuntimeContext<I>, image: string, rootfs: string): Promise<I> {
  const absolute = path.resolve(rootfs);
  const stats = await lstat(absolute).catch(() => undefined);
  if (stats === undefined || !stats.isDirectory()) throw new SyscontainerError('ENOTFOUND', `rootfs ${absolute} is not a directory`);
  const stored = await ctx.store.getImage(image);
  if (stored !== undefined) return stored;
  const digest = `sha256:${createHash('sha256').update(`rootfs:${absolute}`).digest('hex')}`;
  const standIn: RuntimeImage = {
    name: image,
    configDigest: digest,
    manifestDigest: digest,
    config: { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
  };
  return standIn as I;
}

async function resolveImage<I extends RuntimeImage>(ctx: RuntimeContext<I>, image: string): Promise<I> {
  const found = await ctx.store.getImage(image);
  if (found === undefined) {
    throw new SyscontainerError('ENOTFOUND', `image ${image} is not in the store`, { hint: `pull it first: syscontainer pull ${image}` });
  }
  return found;
}

async function requireActive(ctx: RuntimeContext, name: string): Promise<ActiveDeployment> {
  validateContainerName(name);
  const active = await new DeploymentStore(ctx.root).active(name);
  if (active === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
  return active;
}

/**
 * Builds a complete deployment in `slot` from scratch: checkout, render, checks, files, and
 * `info` last. On failure the slot is removed and the error rethrown.
 */
async function buildSlot<I extends RuntimeImage>(
  ctx: RuntimeContext<I>,
  name: string,
  slot: Slot,
  image: I,
  options: {
    set: Record<string, string>;
    previousUuid?: string;
    allowPrivileges?: boolean;
    consentedPrivileges?: readonly string[];
    revision: number;
    /** `install --rootfs`: use this exploded rootfs (read-only) instead of a checkout. */
    externalRootfs?: string;
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
      consentedPrivileges: options.consentedPrivileges,
    };
    const hostOnly = await renderHostFilesOnly(renderInput);
    const rendered = hostOnly === undefined ? await renderDeployment(renderInput) : undefined;
    const values = hostOnly?.values ?? (rendered as RenderedDeployment).values;
    const hostFiles = await stageDeploymentHostFiles(ctx, { dir, rootfs: rootPath, manifest: hostOnly?.manifest ?? rendered?.manifest, values, imageName: image.name });
    if (rendered !== undefined) {
      await deployments.writeSlotFile(dir, 'config.json', rendered.configJson);
      await deployments.writeSlotFile(dir, unitName(name), rendered.unit);
      if (rendered.tmpfiles !== undefined) await deployments.writeSlotFile(dir, `${name}.conf`, rendered.tmpfiles);
      const problems = await ctx.systemd.verify(path.join(dir, unitName(name)));
      if (problems.length > 0) {
        throw new SyscontainerError('ETEMPLATE', `unit ${unitName(name)} rendered for image ${image.name} does not pass systemd-analyze verify: ${problems.join(' / ')}`);
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
    };
    await deployments.writeInfo(dir, info);
    return { dir, info };
  } catch (error) {
    await deployments.removeTree(dir).catch(() => undefined);
    throw error;
  }
}

/** Copies the slot's unit and tmpfiles file to where systemd reads them (or removes stale ones). */
async function publishHostFiles(ctx: RuntimeContext, name: string, dir: string, info: DeploymentInfo): Promise<void> {
  if (info.noContainerService) await rm(unitFile(ctx, name), { force: true });
  else await writeAtomically(unitFile(ctx, name), await readFile(path.join(dir, unitName(name)), 'utf8'));
  if (info.hasTmpfiles) await writeAtomically(tmpfilesFile(ctx, name), await readFile(path.join(dir, `${name}.conf`), 'utf8'));
  else await rm(tmpfilesFile(ctx, name), { force: true });
}

async function removeHostFiles(ctx: RuntimeContext, name: string): Promise<void> {
  await rm(unitFile(ctx, name), { force: true });
  await rm(tmpfilesFile(ctx, name), { force: true });
}

async function systemdRunning(ctx: RuntimeContext): Promise<boolean> {
  return ctx.systemd.isRunning();
}

/** Whether the container runs now (systemd unit active, or runc has it running). */
async function isRunning(ctx: RuntimeContext, name: string, useSystemd: boolean): Promise<boolean> {
  if (useSystemd) {
    const state = await ctx.systemd.unitState(unitName(name));
    return state.activeState === 'active' || state.activeState === 'activating' || state.activeState === 'reloading';
  }
  return (await runcOf(ctx).state(name))?.status === 'running';
}

/** Starts the container and waits `settleMs` to see it stay up; throws ERUNTIME if it does not. */
async function startAndCheck(ctx: RuntimeContext, name: string, dir: string, useSystemd: boolean, restart: boolean): Promise<void> {
  const settle = ctx.settleMs ?? 2000;
  if (useSystemd) {
    const unit = unitName(name);
    await ctx.systemd.resetFailed(unit);
    const before = await ctx.systemd.unitState(unit);
    if (restart) await ctx.systemd.restart(unit);
    else await ctx.systemd.start(unit);
    await sleep(settle);
    const after = await ctx.systemd.unitState(unit);
    const running = (await runcOf(ctx).state(name))?.status === 'running';
    if (after.activeState !== 'active' || after.subState !== 'running' || after.nRestarts > before.nRestarts || !running) {
      const journal = await ctx.systemd.journal(unit, { lines: 5 }).catch(() => '');
      throw new SyscontainerError('ERUNTIME', `container ${name} did not stay running (unit ${after.activeState}/${after.subState})`, {
        hint: journal.trim() === '' ? `see journalctl -u ${unit}` : `last log lines:\n${journal.trim()}`,
      });
    }
    return;
  }
  const runc = runcOf(ctx);
  await runc.delete(name, { force: true });
  await runc.runDetached(name, dir, { logFile: path.join(dir, 'container.log'), pidFile: path.join(dir, 'container.pid') });
  await sleep(settle);
  const state = await runc.state(name);
  if (state?.status !== 'running') {
    const log = await readFile(path.join(dir, 'container.log'), 'utf8').catch(() => '');
    throw new SyscontainerError('ERUNTIME', `container ${name} did not stay running (runc: ${state?.status ?? 'gone'})`, {
      hint: log.trim() === '' ? undefined : `last output:\n${log.trim().split('\n').slice(-5).join('\n')}`,
    });
  }
}

/** Stops the container, whoever runs it. Idempotent. */
async function stopContainer(ctx: RuntimeContext, name: string, useSystemd: boolean): Promise<void> {
  if (useSystemd) await ctx.systemd.stop(unitName(name));
  const runc = runcOf(ctx);
  const state = await runc.state(name);
  if (state !== undefined && state.status === 'running') {
    await runc.kill(name, 'TERM').catch(() => undefined);
    for (let i = 0; i < 50 && (await runc.state(name))?.status === 'running'; i++) await sleep(100);
  }
  await runc.delete(name, { force: true });
}

/** Points NAME at `slot` and makes the host files (unit, tmpfiles) those of that slot. */
async function switchTo(ctx: RuntimeContext, name: string, target: ActiveDeployment, useSystemd: boolean): Promise<void> {
  // The image's host files first: a conflict with a host file (EEXIST) changes nothing.
  const from = await new DeploymentStore(ctx.root).active(name);
  await switchDeploymentHostFiles(ctx, name, target, from);
  await new DeploymentStore(ctx.root).activate(name, target.slot);
  await publishHostFiles(ctx, name, target.dir, target.info);
  if (target.info.hasTmpfiles) await ctx.systemd.tmpfilesCreate(tmpfilesFile(ctx, name));
  if (useSystemd) await ctx.systemd.daemonReload();
}

/**
 * Installs container `name` from a stored image into slot 0, publishes its unit and tmpfiles
 * file, and (unless start is false) enables and starts it. Fails with EEXIST when the name is
 * taken (unless force), EINVAL for a bad name, --set or unconsented privileges. On any failure
 * nothing of the container is left.
 */
export async function install<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: InstallOptions): Promise<DeploymentResult> {
  // The whole command under the lock: "is it installed?" and the install must not interleave.
  return withLock(ctx, options.name, () => installHoldingLock(ctx, options));
}

async function installHoldingLock<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: InstallOptions): Promise<DeploymentResult> {
  const set = { ...(options.set ?? {}) };
  validateSetValues(set);
  const name = options.name;
  const deployments = new DeploymentStore(ctx.root);
  const installed = (await deployments.active(name)) !== undefined || (await pathExists(unitFile(ctx, name)));
  if (!installed && (await deployments.anyExists(name))) {
    // Debris of an interrupted command (no complete, active deployment, no unit): clear it.
    await withLock(ctx, name, async () => {
      await deployments.removeLink(name);
      await deployments.removeTree(deployments.slotDir(name, 0));
      await deployments.removeTree(deployments.slotDir(name, 1));
    });
  }
  if (installed) {
    if (!options.force) {
      throw new SyscontainerError('EEXIST', `container ${name} already exists`, {
        hint: `choose another --name, update it, or reinstall with --force`,
      });
    }
    await uninstall(ctx, { name, purge: false });
  }
  const image = options.rootfs === undefined ? await resolveImage(ctx, options.image) : await externalRootfsImage(ctx, options.image, options.rootfs);
  return withLock(ctx, name, async () => {
    const useSystemd = await systemdRunning(ctx);
    const built = await buildSlot(ctx, name, 0, image, {
      set,
      allowPrivileges: options.allowPrivileges,
      revision: 1,
      ...(options.rootfs !== undefined ? { externalRootfs: path.resolve(options.rootfs) } : {}),
    });
    const runs = built.info.noContainerService !== true;
    const target: ActiveDeployment = { slot: 0, dir: built.dir, info: built.info };
    const stateExisted = await pathExists(built.info.stateDirectory);
    let started = false;
    try {
      await switchTo(ctx, name, target, useSystemd);
      if (useSystemd && runs) await ctx.systemd.enable(unitName(name));
      if (options.start !== false && runs) {
        await startAndCheck(ctx, name, built.dir, useSystemd, false);
        started = true;
      }
    } catch (error) {
      // Only a state directory this install made goes: never data of an earlier container.
      await removeEverything(ctx, name, useSystemd, !stateExisted).catch(() => undefined);
      throw error;
    }
    say(ctx, `Installed ${name} from ${image.name}${started ? ' and started it' : ''}`);
    if (!useSystemd && runs) {
      say(ctx, `systemd is not running here: ${unitFile(ctx, name)} is written but not enabled; runc runs ${name} directly (syscontainer start/stop/restart ${name})`);
    }
    return { name, info: built.info, changed: true, started, privileges: built.info.privileges };
  });
}

/**
 * Makes a new deployment of `name` in its other slot from scratch (the same image name, its
 * newest stored version, or `rebase`), keeping its --set values and UUID; swaps to it and
 * restarts the container if it was running. If the new one does not stay running, the
 * previous deployment is put back and started, and ERUNTIME says so.
 */
export async function update<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: UpdateOptions): Promise<DeploymentResult> {
  return withLock(ctx, options.name, () => updateHoldingLock(ctx, options));
}

async function updateHoldingLock<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: UpdateOptions): Promise<DeploymentResult> {
  validateSetValues(options.set ?? {});
  const current = await requireActive(ctx, options.name);
  const name = options.name;
  // An `install --rootfs` container keeps its rootfs until rebased onto a stored image.
  const externalRootfs = options.rebase === undefined ? current.info.externalRootfs : undefined;
  const image = externalRootfs !== undefined ? await externalRootfsImage(ctx, current.info.image, externalRootfs) : await resolveImage(ctx, options.rebase ?? current.info.image);
  const set = { ...current.info.set, ...(options.set ?? {}) };
  const sameSet = JSON.stringify(Object.entries(set).sort()) === JSON.stringify(Object.entries(current.info.set).sort());
  if (!options.force && image.configDigest === current.info.imageId && image.manifestDigest === current.info.manifestDigest && sameSet) {
    say(ctx, `${name} is already up to date (${image.name})`);
    return { name, info: current.info, changed: false, started: false, privileges: current.info.privileges };
  }
  return withLock(ctx, name, async () => {
    const useSystemd = await systemdRunning(ctx);
    const slot = otherSlot(current.slot);
    // The rollback target this update replaces: its rootfs may go once the slot is rebuilt.
    const deployments = new DeploymentStore(ctx.root);
    const replaced = await deployments.readInfo(deployments.slotDir(name, slot));
    const built = await buildSlot(ctx, name, slot, image, {
      set,
      previousUuid: current.info.values.UUID,
      // What the user allowed for the running deployment stays allowed; anything new needs consent.
      allowPrivileges: options.allowPrivileges,
      consentedPrivileges: current.info.privileges,
      revision: current.info.revision + 1,
      ...(externalRootfs !== undefined ? { externalRootfs } : {}),
    });
    const wasRunning = await isRunning(ctx, name, useSystemd);
    const next: ActiveDeployment = { slot, dir: built.dir, info: built.info };
    try {
      if (wasRunning && !useSystemd) await stopContainer(ctx, name, false);
      await switchTo(ctx, name, next, useSystemd);
      if (wasRunning) await startAndCheck(ctx, name, built.dir, useSystemd, useSystemd);
    } catch (error) {
      // Put the previous deployment back, as it was.
      await stopContainer(ctx, name, useSystemd).catch(() => undefined);
      await switchTo(ctx, name, current, useSystemd);
      if (wasRunning) await startAndCheck(ctx, name, current.dir, useSystemd, false);
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
  });
}

/**
 * Switches `name` back to its other deployment (unit and tmpfiles too) and restarts the
 * container if it was running. ENOTFOUND when there is no previous deployment.
 */
export async function rollback(ctx: RuntimeContext, options: { name: string }): Promise<DeploymentResult> {
  return withLock(ctx, options.name, () => rollbackHoldingLock(ctx, options));
}

async function rollbackHoldingLock(ctx: RuntimeContext, options: { name: string }): Promise<DeploymentResult> {
  const current = await requireActive(ctx, options.name);
  const name = options.name;
  const previous = await new DeploymentStore(ctx.root).inactive(name, current.slot);
  if (previous === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} has no previous deployment to roll back to`);
  return withLock(ctx, name, async () => {
    const useSystemd = await systemdRunning(ctx);
    const wasRunning = await isRunning(ctx, name, useSystemd);
    if (wasRunning && !useSystemd) await stopContainer(ctx, name, false);
    await switchTo(ctx, name, previous, useSystemd);
    if (wasRunning) await startAndCheck(ctx, name, previous.dir, useSystemd, useSystemd);
    say(ctx, `Rolled ${name} back to ${previous.info.image} (revision ${previous.info.revision})`);
    return { name, info: previous.info, changed: true, started: wasRunning, privileges: previous.info.privileges };
  });
}

/**
 * Without systemd, runc made the unit's cgroup path itself (config.json puts the container in
 * /system.slice/NAME.service/container) and leaves the empty parent behind: remove it from every
 * hierarchy. Only empty directories go (rmdir), so nothing running is touched.
 */
async function removeUnitCgroups(name: string): Promise<void> {
  const base = '/sys/fs/cgroup';
  const hierarchies = (await readdir(base).catch(() => [] as string[])).map((h) => path.join(base, h));
  // A killed container's processes may take a moment to be reaped (EBUSY until then).
  for (let attempt = 0; attempt < 15; attempt++) {
    let busy = false;
    for (const dir of [base, ...hierarchies]) {
      const unitDir = path.join(dir, 'system.slice', unitName(name));
      for (const target of [path.join(unitDir, 'container'), unitDir]) {
        await rmdir(target).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EBUSY') busy = true;
        });
      }
    }
    if (!busy) return;
    await sleep(200);
  }
}

/**
 * After deployments were removed: removes the shared rootfs they used when their image is no
 * longer stored and no other deployment uses it. A failure here leaves a rootfs for
 * `images prune`, and does not fail the command that already did its work.
 */
async function releaseRootfsOf(ctx: RuntimeContext, infos: ReadonlyArray<DeploymentInfo | undefined>): Promise<void> {
  const ids = new Set(infos.flatMap((info) => (info === undefined || info.externalRootfs !== undefined ? [] : [info.imageId])));
  for (const id of ids) {
    await ctx.store.releaseRootfs(id, rootfsInUse(ctx.root)).catch((error: unknown) => {
      say(ctx, `warning: the rootfs of image ${id.slice(7, 19)} was not removed (${isSyscontainerError(error) ? error.message : String(error)}); images prune retries`);
    });
  }
}

async function removeEverything(ctx: RuntimeContext, name: string, useSystemd: boolean, purge: boolean): Promise<void> {
  const deployments = new DeploymentStore(ctx.root);
  const active = await deployments.active(name);
  const infos = [active?.info];
  for (const slot of [0, 1] as const) infos.push(await deployments.readInfo(deployments.slotDir(name, slot)));
  await stopContainer(ctx, name, useSystemd);
  if (useSystemd) await ctx.systemd.disable(unitName(name));
  // The unit goes first: never a unit pointing at a removed rootfs.
  await rm(unitFile(ctx, name), { force: true });
  if (useSystemd) {
    await ctx.systemd.daemonReload();
    await ctx.systemd.resetFailed(unitName(name));
  } else {
    await removeUnitCgroups(name);
  }
  if (await pathExists(tmpfilesFile(ctx, name))) {
    await ctx.systemd.tmpfilesRemove(tmpfilesFile(ctx, name)).catch(() => undefined);
    await rm(tmpfilesFile(ctx, name), { force: true });
  }
  // The image's host files by the active deployment's record: only unmodified ones go.
  await removeDeploymentHostFiles(ctx, name, active?.info);
  await deployments.removeLink(name);
  await deployments.removeTree(deployments.slotDir(name, 0));
  await deployments.removeTree(deployments.slotDir(name, 1));
  await removeHostFiles(ctx, name);
  await releaseRootfsOf(ctx, infos);
  if (purge) {
    for (const dir of new Set(infos.flatMap((i) => (i === undefined ? [] : [i.stateDirectory])))) {
      if (dir.startsWith('/') && dir.split('/').filter(Boolean).length >= 2) await deployments.removeTree(dir);
    }
  }
}

/**
 * Stops and disables the container, removes its unit, tmpfiles file and both deployments. The
 * image stays in the store; `purge` also removes its state directory. ENOTFOUND when nothing
 * of the container exists; debris of a broken install is removed too.
 */
export async function uninstall(ctx: RuntimeContext, options: { name: string; purge?: boolean }): Promise<void> {
  return withLock(ctx, options.name, () => uninstallHoldingLock(ctx, options));
}

async function uninstallHoldingLock(ctx: RuntimeContext, options: { name: string; purge?: boolean }): Promise<void> {
  const name = options.name;
  const deployments = new DeploymentStore(ctx.root);
  if (!(await deployments.anyExists(name)) && !(await pathExists(unitFile(ctx, name))) && !(await pathExists(tmpfilesFile(ctx, name)))) {
    throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
  }
  await withLock(ctx, name, async () => {
    await removeEverything(ctx, name, await systemdRunning(ctx), options.purge === true);
  });
  say(ctx, `Uninstalled ${name}`);
}

/** Starts the container (systemctl start, or runc run -d without systemd). Idempotent. */
export async function start(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  return withLock(ctx, options.name, () => startHoldingLock(ctx, options));
}

async function startHoldingLock(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  const active = await requireActive(ctx, options.name);
  const useSystemd = await systemdRunning(ctx);
  if (await isRunning(ctx, options.name, useSystemd)) return;
  await startAndCheck(ctx, options.name, active.dir, useSystemd, false);
}

/** Stops the container and every process of it. Idempotent. */
export async function stop(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  await withLock(ctx, options.name, async () => {
    await requireActive(ctx, options.name);
    await stopContainer(ctx, options.name, await systemdRunning(ctx));
  });
}

export async function restart(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  return withLock(ctx, options.name, () => restartHoldingLock(ctx, options));
}

async function restartHoldingLock(ctx: RuntimeContext, options: { name: string }): Promise<void> {
  const active = await requireActive(ctx, options.name);
  const useSystemd = await systemdRunning(ctx);
  if (!useSystemd) await stopContainer(ctx, options.name, false);
  await startAndCheck(ctx, options.name, active.dir, useSystemd, useSystemd);
}

export async function status(ctx: RuntimeContext, options: { name: string }): Promise<ContainerStatus> {
  const active = await requireActive(ctx, options.name);
  const name = options.name;
  const useSystemd = await systemdRunning(ctx);
  const base = {
    name,
    image: active.info.image,
    imageId: active.info.imageId,
    runtime: active.info.runtime,
    deployment: active.dir,
    revision: active.info.revision,
  };
  if (useSystemd) {
    const unit = await ctx.systemd.unitState(unitName(name));
    return {
      ...base,
      state: unit.activeState === 'active' ? unit.subState : unit.activeState,
      pid: (await runcOf(ctx).state(name))?.pid,
      managedBy: 'systemd',
      enabled: unit.unitFileState === 'enabled',
      details: await ctx.systemd.statusText(unitName(name)),
    };
  }
  const state = await runcOf(ctx).state(name);
  return { ...base, state: state?.status ?? 'stopped', pid: state?.pid, managedBy: 'runc', enabled: undefined, details: undefined };
}

/**
 * Runs a command inside the running container (runc exec) and returns its result; with
 * `interactive` the caller's stdin/stdout/stderr are attached (`tty` allocates a terminal) and
 * only the exit code is meaningful.
 */
export async function exec(
  ctx: RuntimeContext,
  options: { name: string; command: readonly string[]; interactive?: boolean; tty?: boolean },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  await requireActive(ctx, options.name);
  if (options.command.length === 0) throw new SyscontainerError('EUSAGE', 'exec needs a command to run');
  const state = await runcOf(ctx).state(options.name);
  if (state?.status !== 'running') throw new SyscontainerError('ERUNTIME', `container ${options.name} is not running`);
  if (options.interactive) {
    return { exitCode: await runcOf(ctx).execInteractive(options.name, options.command, { tty: options.tty }), stdout: '', stderr: '' };
  }
  return runcOf(ctx).exec(options.name, options.command);
}

/**
 * Follows the container's output (journalctl -f with systemd, the deployment's container.log
 * without), handing each chunk to `write`, until `signal` aborts. Resolves then.
 */
export async function followLogs(
  ctx: RuntimeContext,
  options: { name: string; lines?: number; write: (chunk: string) => void; signal: AbortSignal },
): Promise<void> {
  const active = await requireActive(ctx, options.name);
  if (await systemdRunning(ctx)) {
    await ctx.systemd.followJournal(`${options.name}.service`, { lines: options.lines, write: options.write, signal: options.signal });
    return;
  }
  const file = path.join(active.dir, 'container.log');
  let text = await readFile(file, 'utf8').catch(() => '');
  const initial = options.lines === undefined ? text : text.split('\n').slice(-options.lines - 1).join('\n');
  if (initial !== '') options.write(initial);
  let offset = Buffer.byteLength(text);
  while (!options.signal.aborted) {
    await sleep(500, undefined, { signal: options.signal }).catch(() => undefined);
    text = await readFile(file, 'utf8').catch(() => '');
    const bytes = Buffer.from(text);
    if (bytes.length > offset) options.write(bytes.subarray(offset).toString('utf8'));
    offset = bytes.length; // also after the file was truncated
  }
}

/** The container's output: the unit's journal with systemd, the container.log of the deployment without. */
export async function logs(ctx: RuntimeContext, options: { name: string; lines?: number }): Promise<string> {
  const active = await requireActive(ctx, options.name);
  if (await systemdRunning(ctx)) return ctx.systemd.journal(unitName(options.name), { lines: options.lines });
  const text = await readFile(path.join(active.dir, 'container.log'), 'utf8').catch(() => '');
  return options.lines === undefined ? text : text.split('\n').slice(-options.lines - 1).join('\n');
}

/** Every installed container (complete deployments only), for `syscontainer ps`. */
export async function list(ctx: RuntimeContext): Promise<ContainerListEntry[]> {
  const deployments = new DeploymentStore(ctx.root);
  const useSystemd = await systemdRunning(ctx);
  const runcStates = new Map((await runcOf(ctx).list().catch(() => [])).map((s) => [s.id, s.status]));
  const entries: ContainerListEntry[] = [];
  for (const name of await deployments.names()) {
    const active = await deployments.active(name);
    if (active === undefined) continue;
    let state = runcStates.get(name) ?? 'stopped';
    if (useSystemd) {
      const unit = await ctx.systemd.unitState(unitName(name)).catch(() => undefined);
      if (unit !== undefined) state = unit.activeState === 'active' ? unit.subState : unit.activeState;
    }
    entries.push({
      name,
      image: active.info.image,
      imageId: active.info.imageId.replace(/^sha256:/, '').slice(0, 12),
      command: active.info.command.join(' '),
      created: active.info.created,
      state,
      runtime: active.info.runtime,
    });
  }
  return entries;
}
