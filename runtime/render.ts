// Renders what a deployment needs to run: config.json (OCI runtime spec), the systemd unit and
// the tmpfiles.d file. An image that ships /exports (Atomic's system container images) brings
// its own templates; any other image gets ours (templates/*.ejs) filled from its image config.
// Pure apart from reading the rootfs and our templates: nothing is written here.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { SyscontainerError } from '../common/errors.js';
import type { ImageConfig } from '../store/index.js';
import { renderAtomicTemplate, renderJsonTemplate, renderUnitTemplate } from './atomic-template.js';
import { missingBindSourcesTmpfiles } from './bind-mount-tmpfiles.js';
import { parseExportsManifest, type ExportsManifest } from './exports-manifest.js';
import { parseRuntimeSpec, type OciMount, type OciRuntimeSpec } from './oci-runtime-spec.js';
import { defaultCapabilities, describeExtraPrivileges, type PrivilegePolicy } from './privileges.js';
import { readRootfsFile } from './rootfs-files.js';
import { computeValues } from './values.js';
import { applyContainerSpec, parseContainerSpec, type ContainerSpec } from './container-spec.js';
import { healthOptionsFromImage, resolveHealthCheck, type HealthCheck } from './health/health-check.js';
import { healthTimerName, renderHealthUnits, type HealthUnits } from './health/health-units.js';
import { amendUnit } from './service/amend-unit.js';
import { unitRestarts } from './service/restart-policy.js';
import { dependenciesOf, type ServiceOptions } from './service/service-options.js';

export interface RenderImage {
  /** REGISTRY/REPO:TAG */
  name: string;
  /** sha256:… of the image config; its hex is the image id. */
  configDigest: string;
  config: ImageConfig;
}

export interface RenderInput {
  name: string;
  /** The deployment directory (ROOT/NAME.N): DESTDIR. */
  destDir: string;
  /** Host path of the checked-out rootfs; DESTDIR/rootfs unless a test says otherwise. */
  rootfs?: string;
  /**
   * config.json's root.path: the image's shared rootfs, or the exploded rootfs of
   * `install --rootfs`, used in place (read-only). Default DESTDIR/rootfs. runc refuses a root
   * path with a symlink in it, so this is the real directory, not DESTDIR/rootfs's link to it.
   */
  rootPath?: string;
  image: RenderImage;
  runtimePath: string;
  /** The user's --set values. */
  set?: Readonly<Record<string, string>>;
  /** UUID of the deployment being replaced, kept across updates. */
  previousUuid?: string;
  /** Consent to privileges beyond the default (`--privileged`). */
  allowPrivileges?: boolean;
  /** Who decides about privileges beyond the default (privileges.ts); default `consent`. */
  privilegePolicy?: PrivilegePolicy;
  /** Privileges consented to earlier (an update of a privileged container): these need no new consent. */
  consentedPrivileges?: readonly string[];
  /** Overrides for reproducible output (tests): capability list of ALL_PROCESS_CAPABILITIES, uid/gid. */
  capabilities?: readonly string[];
  hostUid?: number;
  hostGid?: number;
  templatesDir?: string;
  /**
   * What the caller sets over the image's config (command, env, mounts, capabilities, …),
   * validated (runtime/container-spec.ts). Applied onto config.json and the unit before the
   * privileges check, so it grants nothing beyond the default without consent.
   */
  containerSpec?: ContainerSpec;
  /** The deployments root (ROOT): pods' shared directories live under it. Default: DESTDIR's parent. */
  root?: string;
  /** What the user asked of the service: health check, restart policy, ordering, notify (validated). */
  service?: ServiceOptions;
  /** The command the health-check unit runs (`CLI --root ROOT healthcheck run NAME`); needed when there is a check. */
  healthRunCommand?: readonly string[];
}

export interface RenderedDeployment {
  /** Where the templates came from. */
  source: 'exports' | 'image-config';
  configJson: string;
  spec: OciRuntimeSpec;
  unit: string;
  /** The unit comes from the image's /exports/service.template, not from ours. */
  unitFromImage: boolean;
  /** Undefined when there is nothing for systemd-tmpfiles to do. */
  tmpfiles: string | undefined;
  values: Record<string, string>;
  /** Privileges granted beyond the default (empty unless the policy or allowPrivileges granted them). */
  privileges: string[];
  /** Ports the image declares; informational, the container shares the host network. */
  exposedPorts: string[];
  /** Host directories made for the image's volumes: STATE_DIRECTORY/NAME/…; removed by purge. */
  stateDirectory: string;
  /** The image's /exports/manifest.json, when it has one. */
  manifest?: ExportsManifest;
  /** Files the deployment must hold (inline files of the container spec), relative to DESTDIR. */
  files: { path: string; content: string; mode: number }[];
  /** The health check in effect, and the timer/service pair that runs it; absent when none. */
  healthcheck?: HealthCheck;
  healthUnits?: HealthUnits;
  /** Whether the unit waits for the service's READY=1 (Type=notify). */
  notify: boolean;
}

/** The label by which an image says its service sends READY=1 itself (sd_notify). */
export const notifyLabel = 'io.syscontainer.notify';

const exportFiles = ['config.json.template', 'config.json', 'service.template', 'tmpfiles.template', 'manifest.json'];
const maxVolumes = 64;
const maxLabels = 256;

/** The templates/ directory of this package (source tree or dist/ build). */
export function defaultTemplatesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '..', 'templates'), path.join(here, '..', '..', 'templates')]) {
    if (existsSync(path.join(candidate, 'service.ejs'))) return candidate;
  }
  throw new SyscontainerError('ETEMPLATE', `templates directory not found near ${here}`);
}

/** The cgroup path (from the hierarchy root) of a system unit in `slice`, e.g. /system.slice/NAME.service. Pure. */
export function unitCgroupPath(unitName: string, slice = 'system.slice'): string {
  // Slice names nest by dashes: a-b.slice lives in a.slice/a-b.slice.
  const base = slice.replace(/\.slice$/, '');
  const parts = base === '-' || base === '' ? [] : base.split('-').map((_, i, all) => `${all.slice(0, i + 1).join('-')}.slice`);
  return `/${[...parts, unitName].join('/')}`;
}

/** The Slice= a rendered unit asks for, or system.slice. Pure. */
export function unitSlice(unit: string): string {
  const match = /^\s*Slice\s*=\s*(\S+)\s*$/m.exec(unit);
  return match?.[1] ?? 'system.slice';
}

function stopSignal(config: ImageConfig): string {
  const signal = config.config?.StopSignal?.trim().toUpperCase();
  if (signal === undefined || signal === '') return 'SIGTERM';
  if (/^\d{1,2}$/.test(signal)) return signal;
  if (/^(SIG)?[A-Z][A-Z0-9+-]*$/.test(signal)) return signal.startsWith('SIG') ? signal : `SIG${signal}`;
  return 'SIGTERM';
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

function parseColonFile(text: string | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

/** Numeric uid:gid for the image's User, resolving names through the rootfs' /etc/passwd and /etc/group. */
export async function resolveUser(rootfs: string, user: string | undefined, imageName: string): Promise<{ uid: number; gid: number }> {
  const spec = (user ?? '').trim();
  if (spec === '') return { uid: 0, gid: 0 };
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd: PasswdEntry[] = parseColonFile(await readRootfsFile(rootfs, '/etc/passwd')).flatMap((f) => {
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    return f[0] !== undefined && Number.isInteger(uid) && Number.isInteger(gid) ? [{ name: f[0], uid, gid }] : [];
  });
  let uid: number;
  let primaryGid: number | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    primaryGid = passwd.find((e) => e.uid === uid)?.gid;
  } else {
    const entry = passwd.find((e) => e.name === userPart);
    if (entry === undefined) {
      throw new SyscontainerError('EMANIFEST', `image ${imageName}: user ${JSON.stringify(userPart)} is not in the image's /etc/passwd`);
    }
    uid = entry.uid;
    primaryGid = entry.gid;
  }
  let gid = primaryGid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = parseColonFile(await readRootfsFile(rootfs, '/etc/group')).find((f) => f[0] === groupPart);
      const found = Number(group?.[2]);
      if (group === undefined || !Number.isInteger(found)) {
        throw new SyscontainerError('EMANIFEST', `image ${imageName}: group ${JSON.stringify(groupPart)} is not in the image's /etc/group`);
      }
      gid = found;
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new SyscontainerError('EMANIFEST', `image ${imageName}: user ${spec} is out of range`);
  return { uid, gid };
}

/** A host directory name for a volume path: /var/lib/etcd -> var_lib_etcd. Pure. */
export function volumeDirectoryName(volume: string): string {
  const name = path.posix.normalize(`/${volume}`).slice(1).replace(/[^A-Za-z0-9._-]/g, '_');
  return name === '' || name.startsWith('.') ? `_${name}` : name;
}

// Paths that land in a unit or tmpfiles line unquoted: no whitespace, quotes, `%` (unit
// specifiers) or backslashes.
const safeHostPath = /^\/[A-Za-z0-9._/+:@,=-]*$/;

function checkHostPath(what: string, value: string): void {
  if (!safeHostPath.test(value)) {
    throw new SyscontainerError('EINVAL', `${what} ${JSON.stringify(value)}: must be an absolute path without spaces, quotes, "%" or "\\"`);
  }
}

function defaultMounts(volumes: { destination: string; source: string }[]): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
    // The host network is shared, so is its name resolution.
    { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    ...volumes.map((v) => ({ destination: v.destination, type: 'bind', source: v.source, options: ['rbind', 'rw', 'nosuid', 'nodev'] })),
  ];
}

/** Atomic's rule: a service template using both $PIDFILE and $EXEC_STOPPOST expects a detached runc. */
function templateSupportsPidFile(template: string | undefined): boolean {
  if (template === undefined) return false;
  const uses = (name: string) => template.includes(`$${name}`) || template.includes(`\${${name}}`);
  return uses('PIDFILE') && uses('EXEC_STOPPOST');
}

async function readExports(rootfs: string, imageName: string) {
  const found: Record<string, string> = {};
  for (const file of exportFiles) {
    const text = await readRootfsFile(rootfs, `/exports/${file}`);
    if (text !== undefined) found[file] = text;
  }
  const manifest = found['manifest.json'] === undefined ? undefined : parseExportsManifest(found['manifest.json'], imageName);
  return { files: found, manifest, any: Object.keys(found).length > 0 };
}

/** Throws EINVAL naming the privileges beyond the default that `input`'s policy does not grant. */
function checkPrivileges(input: RenderInput, privileges: readonly string[], declaredByImage: boolean): void {
  const policy = input.privilegePolicy ?? 'consent';
  if (policy === 'confined') {
    if (privileges.length === 0) return;
    throw new SyscontainerError('EINVAL', `image ${input.image.name} asks for privileges beyond the default: ${privileges.join('; ')}`, {
      hint: 'refused: confinement is enforced (--confined, or confined = true in the syscontainer config file)',
    });
  }
  if (input.allowPrivileges === true || (policy === 'declared' && declaredByImage)) return;
  const unconsented = privileges.filter((p) => !(input.consentedPrivileges ?? []).includes(p));
  if (unconsented.length > 0) {
    throw new SyscontainerError('EINVAL', `image ${input.image.name} asks for privileges beyond the default: ${unconsented.join('; ')}`, {
      hint: 'install with --privileged to grant them',
    });
  }
}

/**
 * The variables and manifest.json of an image that declares `noContainerService`: what
 * installing only its host files needs. Undefined for any other image (render it fully).
 */
export async function renderHostFilesOnly(input: RenderInput): Promise<{ values: Record<string, string>; manifest: ExportsManifest } | undefined> {
  const rootfs = input.rootfs ?? path.join(input.destDir, 'rootfs');
  const { manifest } = await readExports(rootfs, input.image.name);
  if (manifest?.noContainerService !== true) return undefined;
  const values = computeValues({
    name: input.name,
    destDir: input.destDir,
    imageName: input.image.name,
    imageId: input.image.configDigest.replace(/^sha256:/, ''),
    runtimePath: input.runtimePath,
    set: input.set,
    defaultValues: manifest.defaultValues,
    previousUuid: input.previousUuid,
    hostUid: input.hostUid,
    hostGid: input.hostGid,
    capabilities: input.capabilities,
  });
  return { values, manifest };
}

/**
 * Renders config.json, the unit and the tmpfiles file for one deployment. Throws ETEMPLATE
 * (naming the file and the variable, line or field) when a template does not render into a
 * valid document, EMANIFEST when the image has no command and no /exports, and EINVAL when
 * the image asks for privileges beyond the default without `allowPrivileges`.
 */
export async function renderDeployment(input: RenderInput): Promise<RenderedDeployment> {
  const rootfs = input.rootfs ?? path.join(input.destDir, 'rootfs');
  const imageConfig = input.image.config.config ?? {};
  const exportsFound = await readExports(rootfs, input.image.name);
  const imageId = input.image.configDigest.replace(/^sha256:/, '');
  const values = computeValues({
    name: input.name,
    destDir: input.destDir,
    imageName: input.image.name,
    imageId,
    runtimePath: input.runtimePath,
    set: input.set,
    defaultValues: exportsFound.manifest?.defaultValues,
    previousUuid: input.previousUuid,
    hostUid: input.hostUid,
    hostGid: input.hostGid,
    capabilities: input.capabilities,
    detachedWithPidFile: templateSupportsPidFile(exportsFound.files['service.template']),
  });
  for (const key of ['DESTDIR', 'STATE_DIRECTORY', 'RUN_DIRECTORY', 'CONF_DIRECTORY'] as const) {
    checkHostPath(key, values[key] as string);
  }
  checkHostPath('runtime path', values.RUNTIME as string);
  const templatesDir = input.templatesDir ?? defaultTemplatesDir();
  const stateDirectory = `${values.STATE_DIRECTORY}/${input.name}`;

  // Unit first: its Slice= decides the cgroup path the container must live under.
  let unit: string;
  const files = exportsFound.files;
  if (files['service.template'] !== undefined) {
    unit = renderUnitTemplate(files['service.template'], values, `image ${input.image.name}: /exports/service.template`);
  } else {
    unit = ejs.render(await readFile(path.join(templatesDir, 'service.ejs'), 'utf8'), {
      name: input.name,
      imageName: input.image.name,
      values,
      stopSignal: stopSignal(input.image.config),
    });
  }

  // What the user asked of the service, over the unit: our template restarts on failure by
  // default; an image's own template keeps its Restart= unless a policy was given.
  const service = input.service ?? {};
  const notify = service.notify ?? /^(true|1|yes)$/i.test(imageConfig.Labels?.[notifyLabel] ?? '');
  const restart = service.restart ?? (files['service.template'] === undefined ? 'on-failure' : undefined);
  unit = amendUnit(unit, { ...(restart !== undefined ? { restart } : {}), ...(service.restartRetries !== undefined ? { restartRetries: service.restartRetries } : {}), dependencies: dependenciesOf(service), notify });
  const healthcheck = resolveHealthCheck(healthOptionsFromImage(imageConfig.Healthcheck, input.image.name), service.health, unitRestarts(unit));
  let healthUnits: HealthUnits | undefined;
  if (healthcheck !== undefined) {
    if (input.healthRunCommand === undefined) throw new SyscontainerError('ETEMPLATE', `container ${input.name}: no command to run its health check with`);
    healthUnits = await renderHealthUnits({ name: input.name, check: healthcheck, command: input.healthRunCommand, templatesDir });
    unit = amendUnit(unit, { healthTimer: healthTimerName(input.name) });
  }

  const volumes = Object.keys(imageConfig.Volumes ?? {});
  if (volumes.length > maxVolumes) {
    throw new SyscontainerError('ELIMIT', `image ${input.image.name}: ${volumes.length} volumes, more than ${maxVolumes}`);
  }
  const volumeMounts = volumes.map((v) => {
    const destination = path.posix.resolve('/', v);
    if (destination === '/') throw new SyscontainerError('EMANIFEST', `image ${input.image.name}: a volume at / is not supported`);
    return { destination, source: `${stateDirectory}/${volumeDirectoryName(destination)}` };
  });

  let configText: string;
  let configFile: string;
  let user = { uid: 0, gid: 0 };
  if (files['config.json.template'] !== undefined) {
    configFile = `image ${input.image.name}: /exports/config.json.template`;
    // JSON-aware: a value inside a JSON string stays one string (no injected elements).
    configText = renderJsonTemplate(files['config.json.template'], values, configFile);
  } else if (files['config.json'] !== undefined) {
    configFile = `image ${input.image.name}: /exports/config.json`;
    configText = files['config.json'];
  } else {
    configFile = `config.json rendered for ${input.name} from image ${input.image.name}`;
    const args = [...(imageConfig.Entrypoint ?? []), ...(imageConfig.Cmd ?? [])];
    if (args.length === 0) {
      throw new SyscontainerError('EMANIFEST', `image ${input.image.name}: not a system container image and has no command`, {
        hint: 'the image has neither /exports nor an Entrypoint or Cmd in its config',
      });
    }
    user = await resolveUser(rootfs, imageConfig.User, input.image.name);
    const env = [...(imageConfig.Env ?? [])];
    if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const labels = Object.entries(imageConfig.Labels ?? {}).slice(0, maxLabels);
    const exposed = Object.keys(imageConfig.ExposedPorts ?? {});
    const annotations: Record<string, string> = Object.fromEntries(labels);
    annotations['org.opencontainers.image.ref.name'] = input.image.name;
    if (exposed.length > 0) annotations['io.syscontainer.exposed-ports'] = exposed.join(',');
    const workingDir = imageConfig.WorkingDir?.trim() ? path.posix.normalize(`/${imageConfig.WorkingDir}`) : '/';
    configText = ejs.render(await readFile(path.join(templatesDir, 'config.json.ejs'), 'utf8'), {
      j: (v: unknown) => JSON.stringify(v),
      uid: user.uid,
      gid: user.gid,
      args,
      env,
      cwd: workingDir,
      capabilities: defaultCapabilities,
      rootPath: `${input.destDir}/rootfs`,
      hostname: input.name,
      mounts: defaultMounts(volumeMounts),
      annotations,
      cgroupsPath: '',
    });
  }

  let spec = parseRuntimeSpec(configText, configFile);
  let inlineFiles: RenderedDeployment['files'] = [];
  const ownDirectories = [stateDirectory];
  const ownNamespaces: string[] = [];
  if (input.containerSpec !== undefined) {
    // Validated here too, whoever built it: names normalised (CAP_…), paths checked.
    const containerSpec = parseContainerSpec(input.containerSpec, `container ${input.name}`);
    const applied = applyContainerSpec({
      containerSpec,
      spec,
      unit,
      image: { entrypoint: imageConfig.Entrypoint ?? [], cmd: imageConfig.Cmd ?? [] },
      destDir: input.destDir,
      root: input.root ?? path.dirname(input.destDir),
      ...(containerSpec.user !== undefined ? { user: await resolveUser(rootfs, containerSpec.user, input.image.name) } : {}),
    });
    spec = applied.spec;
    unit = applied.unit;
    inlineFiles = applied.files;
    ownDirectories.push(...applied.ownDirectories);
    ownNamespaces.push(...applied.ownNamespaces);
  }
  // The rootfs is hardlinked into the store: a write through it would corrupt the stored
  // object for every container sharing it, so the root is read-only whatever a template says.
  spec.root = { ...spec.root, path: input.rootPath ?? `${input.destDir}/rootfs`, readonly: true };
  spec.process.terminal = false;
  // The container lives in a child of the unit's cgroup: `systemctl stop` then reaches every
  // process of it, and `systemctl status` lists them. runc's cgroupfs driver creates it; on
  // cgroup v2 it cannot enable controllers there (the unit's cgroup holds runc itself), so
  // resource limits belong in the unit (MemoryMax=, ...), not in config.json.
  spec.linux.cgroupsPath = `${unitCgroupPath(`${input.name}.service`, unitSlice(unit))}/container`;

  const privileges = describeExtraPrivileges(spec, { ownDirectories, ownNamespaces });
  checkPrivileges(input, privileges, exportsFound.any);

  let tmpfiles: string | undefined;
  if (files['tmpfiles.template'] !== undefined) {
    tmpfiles = renderAtomicTemplate(files['tmpfiles.template'], values, `image ${input.image.name}: /exports/tmpfiles.template`);
  } else if (exportsFound.any) {
    // Atomic's rule for images without a tmpfiles.template: make the missing bind-mount sources.
    tmpfiles = await missingBindSourcesTmpfiles(spec.mounts ?? []);
  } else if (volumeMounts.length > 0) {
    tmpfiles = ejs.render(await readFile(path.join(templatesDir, 'tmpfiles.ejs'), 'utf8'), {
      stateDirectory,
      volumes: volumeMounts,
      uid: user.uid,
      gid: user.gid,
    });
  }
  if (tmpfiles !== undefined && tmpfiles.trim() === '') tmpfiles = undefined;

  return {
    source: exportsFound.any ? 'exports' : 'image-config',
    configJson: `${JSON.stringify(spec, null, 2)}\n`,
    spec,
    unit: unit.endsWith('\n') ? unit : `${unit}\n`,
    unitFromImage: files['service.template'] !== undefined,
    tmpfiles: tmpfiles === undefined ? undefined : tmpfiles.endsWith('\n') ? tmpfiles : `${tmpfiles}\n`,
    values,
    privileges,
    exposedPorts: Object.keys(imageConfig.ExposedPorts ?? {}),
    stateDirectory,
    ...(exportsFound.manifest !== undefined ? { manifest: exportsFound.manifest } : {}),
    files: inlineFiles,
    ...(healthcheck !== undefined ? { healthcheck, healthUnits } : {}),
    notify,
  };
}
