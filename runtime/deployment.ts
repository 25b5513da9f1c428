// Deployments on disk, as Atomic laid them out: ROOT/NAME.0 and ROOT/NAME.1, and the symlink
// ROOT/NAME pointing at the active one. A slot holds rootfs/, config.json, NAME.service,
// tmpfiles-NAME.conf (tmpfiles, when any; NAME.conf in slots written before) and `info`, which
// is written last (temp + rename): a slot without a readable info is debris from an
// interrupted command and is cleared before reuse. Slots atomic wrote are read too (atomic-info.ts).
import { readFileSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { pathExists } from '../common/path-exists.js';
import { removeTree } from '../common/remove-tree.js';
import { containerSpecSchema } from './container-spec.js';
import { readAtomicInfo } from './atomic-info.js';
import { isValidContainerName, validateContainerName } from './container-name.js';
import { healthCheckSchema } from './health/health-check.js';
import { serviceOptionsSchema } from './service/service-options.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';
import { checkDeploymentInfo } from './deployment-info-check.js';

export type Slot = 0 | 1;

export const otherSlot = (slot: Slot): Slot => (slot === 0 ? 1 : 0);

export const deploymentInfoSchema = builtOnFirstUse(() => z.object({
  version: z.literal(1),
  name: z.string(),
  /** REGISTRY/REPO:TAG as stored. */
  image: z.string(),
  /** Image id: the config digest (sha256:…). */
  imageId: z.string(),
  manifestDigest: z.string(),
  /** The user's --set values, reused by update. */
  set: z.record(z.string(), z.string()),
  /** Every variable the templates were rendered with (UUID is kept from here across updates). */
  values: z.record(z.string(), z.string()),
  created: z.string(),
  runtime: z.string(),
  /** Counts installs and updates of this container: 1 for the first install. */
  revision: z.number().int().positive(),
  privileged: z.boolean(),
  privileges: z.array(z.string()),
  /** Where config.json and the unit came from. */
  source: z.enum(['exports', 'image-config']),
  command: z.array(z.string()),
  stateDirectory: z.string(),
  hasTmpfiles: z.boolean(),
  exposedPorts: z.array(z.string()),
  /** Files of the image's /exports/hostfs this deployment puts on the host (copies in DESTDIR/hostfs). */
  hostFiles: z.array(z.object({ path: z.string(), digest: z.string(), mode: z.number().int() })).optional(),
  /** manifest.json noContainerService: only host files, no unit, no container, no rootfs. */
  noContainerService: z.boolean().optional(),
  /** `install --rootfs`: the external rootfs used read-only instead of a checkout. */
  externalRootfs: z.string().optional(),
  /** What the caller set over the image's config (runtime/container-spec.ts); update renders it again. */
  containerSpec: containerSpecSchema.optional(),
  /**
   * Who declared the container, for the application layer (apply's config id, source and spec
   * digest): opaque here, kept across updates unless replaced, written with the deployment.
   */
  owner: z.record(z.string(), z.unknown()).optional(),
  /** Labels the container's creator gave (the REST service's project label among them). */
  labels: z.record(z.string(), z.string()).optional(),
  /** Written by atomic (its own `info` keys, read by atomic-info.ts); absent for ours. */
  origin: z.literal('atomic').optional(),
  /** What the user asked of the service (health, restart, ordering, notify, auto-update); kept and reused by update. */
  service: serviceOptionsSchema.optional(),
  /** The health check in effect (the image's Healthcheck under the user's options); absent: none. */
  healthcheck: healthCheckSchema.optional(),
  /** The unit is Type=notify: started means the service said READY=1. */
  notify: z.boolean().optional(),
}));
export type DeploymentInfo = z.infer<typeof deploymentInfoSchema>;

/** The slot a link ROOT/NAME → `target` names: NAME.0 or NAME.1 (anything else is not ours). */
function slotOfTarget(name: string, target: string): Slot | undefined {
  const base = path.basename(target);
  return base === `${name}.0` ? 0 : base === `${name}.1` ? 1 : undefined;
}

export interface ActiveDeployment {
  slot: Slot;
  dir: string;
  info: DeploymentInfo;
}

/** Reads ROOT and changes it; every method that changes something is safe to retry. */
export class DeploymentStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  slotDir(name: string, slot: Slot): string {
    validateContainerName(name);
    return path.join(this.root, `${name}.${slot}`);
  }

  /** Where an update keeps the deployment of `slot` it replaces until the new one runs (a dot name: never listed). */
  replacedDir(name: string, slot: Slot): string {
    validateContainerName(name);
    return path.join(this.root, `.${name}.${slot}.replaced`);
  }

  linkPath(name: string): string {
    validateContainerName(name);
    return path.join(this.root, name);
  }

  /** The info record of a slot directory, or undefined when missing or unreadable (debris). */
  async readInfo(dir: string): Promise<DeploymentInfo | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(dir, 'info'), 'utf8');
    } catch {
      return undefined;
    }
    return this.parseInfo(dir, text);
  }

  /** The record `text` of slot `dir` (ours, checked without building its schema; or one atomic wrote); undefined when it is neither. */
  private async parseInfo(dir: string, text: string): Promise<DeploymentInfo | undefined> {
    try {
      const raw: unknown = JSON.parse(text);
      const ours = checkDeploymentInfo(raw) as DeploymentInfo | undefined;
      if (ours !== undefined) return ours;
      // A deployment atomic wrote: its own keys, converted.
      return await readAtomicInfo(dir, raw);
    } catch {
      return undefined;
    }
  }

  /** The slot ROOT/NAME points at, with its info; undefined when not installed (or only debris). */
  async active(name: string): Promise<ActiveDeployment | undefined> {
    let target: string;
    try {
      target = await readlink(this.linkPath(name));
    } catch {
      return undefined;
    }
    const slot = slotOfTarget(name, target);
    if (slot === undefined) return undefined;
    const dir = this.slotDir(name, slot);
    const info = await this.readInfo(dir);
    return info === undefined ? undefined : { slot, dir, info };
  }

  /** The active deployment of NAME; ENOTFOUND when NAME is not installed, EINVAL for a bad name. */
  async requireActive(name: string): Promise<ActiveDeployment> {
    validateContainerName(name);
    const active = await this.active(name);
    if (active === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
    return active;
  }

  /** The deployment in the slot that is not active, when it is complete. */
  async inactive(name: string, activeSlot: Slot): Promise<ActiveDeployment | undefined> {
    const slot: Slot = activeSlot === 0 ? 1 : 0;
    const dir = this.slotDir(name, slot);
    const info = await this.readInfo(dir);
    return info === undefined ? undefined : { slot, dir, info };
  }

  /** Whether anything of NAME is on disk (link or either slot). */
  async anyExists(name: string): Promise<boolean> {
    for (const p of [this.linkPath(name), this.slotDir(name, 0), this.slotDir(name, 1)]) if (await pathExists(p)) return true;
    return false;
  }

  /** Empties slot `slot` of NAME and creates it again, so a deployment starts from scratch. */
  async prepareSlot(name: string, slot: Slot): Promise<string> {
    const dir = this.slotDir(name, slot);
    await this.removeTree(dir);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  /** Writes a file of a slot through a temporary name; atomic. */
  async writeSlotFile(dir: string, file: string, content: string, mode = 0o644): Promise<void> {
    await writeFileAtomic(path.join(dir, file), content, mode);
  }

  /** Writes `info`, which makes the slot a complete deployment. Call it last. Atomic. */
  async writeInfo(dir: string, info: DeploymentInfo): Promise<void> {
    await this.writeSlotFile(dir, 'info', `${JSON.stringify(deploymentInfoSchema.parse(info), null, 2)}\n`, 0o600);
  }

  /** Points ROOT/NAME at `slot`: new symlink under a temporary name, then rename over. Atomic. */
  async activate(name: string, slot: Slot): Promise<void> {
    const link = this.linkPath(name);
    const temp = path.join(this.root, `.${name}.link-tmp`);
    await rm(temp, { force: true });
    await symlink(`${name}.${slot}`, temp);
    await rename(temp, link);
  }

  /** Removes ROOT/NAME if it is a symlink. Idempotent. */
  async removeLink(name: string): Promise<void> {
    const link = this.linkPath(name);
    try {
      if ((await lstat(link)).isSymbolicLink()) await rm(link, { force: true });
    } catch {
      // not there
    }
  }

  /** Removes a directory tree even when parts of it are read-only. Idempotent. */
  async removeTree(dir: string): Promise<void> {
    // `info` first: a removal cut short must not leave a half-removed slot that looks complete.
    await rm(path.join(dir, 'info'), { force: true }).catch(() => undefined);
    await removeTree(dir).catch((error: unknown) => {
      throw new SyscontainerError('ERUNTIME', `cannot remove ${dir}: ${(error as Error).message}`, { cause: error });
    });
  }

  /** Names that have an active, complete deployment. */
  async names(): Promise<string[]> {
    return (await this.activeDeployments()).map((d) => d.name);
  }

  /**
   * Every container with a complete, active deployment, by name, with that deployment: one
   * listing of ROOT, each link and record read once. The reads are synchronous on purpose:
   * they are a few KiB each from a local directory, and at 100 containers the promise and
   * thread-pool round trips of ~300 asynchronous calls cost 25 ms more CPU than the reads
   * themselves (what every `containers list`, `ps` and GET /containers/json pays).
   */
  async activeDeployments(): Promise<{ name: string; active: ActiveDeployment }[]> {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.root, { withFileTypes: true });
    } catch {
      return [];
    }
    const found: { name: string; active: ActiveDeployment }[] = [];
    // NAME.0 and NAME.1 are slot directories; every container's ROOT/NAME is a symlink (a
    // container may itself be named `x.0`).
    for (const entry of entries.filter((e) => e.isSymbolicLink() && !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const name = entry.name;
      if (!isValidContainerName(name)) continue;
      const slot = this.activeSlotSync(name);
      if (slot === undefined) continue;
      const dir = this.slotDir(name, slot);
      let text: string;
      try {
        text = readFileSync(path.join(dir, 'info'), 'utf8');
      } catch {
        continue;
      }
      const info = await this.parseInfo(dir, text);
      if (info !== undefined) found.push({ name, active: { slot, dir, info } });
    }
    return found;
  }

  private activeSlotSync(name: string): Slot | undefined {
    try {
      return slotOfTarget(name, readlinkSync(this.linkPath(name)));
    } catch {
      return undefined;
    }
  }
}
