// What a caller may change about a container beyond the image's own config: the command,
// environment, mounts, capabilities, user, namespaces and resource limits. `apply` (Kubernetes
// pods, paunch files) and the REST service (docker's create body) both say what they want in
// this one model; render applies it onto the rendered config.json and unit, the deployment keeps
// it (so `update` renders the same container again), and the privileges check runs on the
// result: nothing here grants more than the default confinement unless the user consented.
import path from 'node:path';
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import type { OciMount, OciRuntimeSpec } from './oci-runtime-spec.js';
import { defaultCapabilities } from './privileges.js';
import { allCapabilityNames } from './values.js';
import { oneshotAnnotation, successExitCodesAnnotation } from './oneshot.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

// Values end up in config.json (JSON-encoded, so any text is safe there) and, for limits, in the
// unit: those are numbers. Paths must be absolute and normalised so the privileges check reads
// what runc will mount.
// eslint-disable-next-line no-control-regex
const noControl = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;
const absolutePath = builtOnFirstUse(() => z
  .string()
  .min(1)
  .max(4096)
  .regex(noControl, 'has control characters')
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => path.posix.normalize(p) === p || path.posix.normalize(p) === p.replace(/\/+$/, ''), 'must be a normalised path (no "..", "//" or ".")')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."'));
const argument = builtOnFirstUse(() => z.string().max(131072).regex(/^[^\u0000]*$/, 'has a NUL character'));
const envName = builtOnFirstUse(() => z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'not a valid environment variable name'));
const capabilityName = builtOnFirstUse(() => z
  .string()
  .transform((c) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`))
  .refine((c) => (allCapabilityNames as readonly string[]).includes(c), 'not a capability name'));
/** A pod's name: it becomes part of unit, namespace and directory names. */
export const podNamePattern = /^[a-z0-9]([a-z0-9.-]{0,52}[a-z0-9])?$/;
const podName = builtOnFirstUse(() => z.string().regex(podNamePattern, 'a pod name is 1-54 lowercase letters, digits, "." or "-", starting and ending with a letter or digit'));
const fileMode = builtOnFirstUse(() => z.number().int().min(0).max(0o7777));
const relativeFile = builtOnFirstUse(() => z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.-]+$/, 'a file name of letters, digits, "_", "." or "-"')
  .refine((f) => f !== '.' && f !== '..', 'not a file name'));

const bindMount = builtOnFirstUse(() => z.strictObject({
  type: z.literal('bind'),
  source: absolutePath,
  destination: absolutePath,
  readOnly: z.boolean().optional(),
}));
const tmpfsMount = builtOnFirstUse(() => z.strictObject({
  type: z.literal('tmpfs'),
  destination: absolutePath,
  sizeBytes: z.number().int().positive().optional(),
}));
/** A directory of the pod (`spec.pod`) shared by its containers: Kubernetes' emptyDir. Removed with the pod. */
const podVolumeMount = builtOnFirstUse(() => z.strictObject({
  type: z.literal('pod-volume'),
  volume: relativeFile,
  /** A subdirectory of the volume, Kubernetes' subPath. */
  subPath: z.string().max(1024).regex(/^[A-Za-z0-9_.\-/]+$/).refine((p) => !p.split('/').includes('..') && !p.startsWith('/')).optional(),
  destination: absolutePath,
  readOnly: z.boolean().optional(),
}));
/** Files given inline (a ConfigMap's), written into the deployment and mounted read-only. */
const filesMount = builtOnFirstUse(() => z.strictObject({
  type: z.literal('files'),
  destination: absolutePath,
  files: z.array(z.strictObject({ name: relativeFile, content: z.string().max(1 << 20), mode: fileMode.optional() })).max(256),
}));
/** One inline file mounted read-only at `destination` (a ConfigMap key mounted by subPath). */
const fileMount = builtOnFirstUse(() => z.strictObject({
  type: z.literal('file'),
  destination: absolutePath,
  content: z.string().max(1 << 20),
  mode: fileMode.optional(),
}));

export const containerMountSchema = builtOnFirstUse(() => z.discriminatedUnion('type', [bindMount, tmpfsMount, podVolumeMount, filesMount, fileMount]));
export type ContainerMount = z.infer<typeof containerMountSchema>;

export const containerSpecSchema = builtOnFirstUse(() => z.strictObject({
  /** Replaces the image's Entrypoint (Kubernetes' `command`); the image's Cmd is dropped unless `args` says. */
  command: z.array(argument).min(1).max(4096).optional(),
  /** Replaces the image's Cmd (Kubernetes' `args`). */
  args: z.array(argument).max(4096).optional(),
  /** Added to the image's environment, overriding variables of the same name. */
  env: z.record(envName, argument).optional(),
  workingDir: absolutePath.optional(),
  /** `UID[:GID]` or `NAME[:GROUP]`, names resolved through the image's /etc/passwd and /etc/group. */
  user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/, 'expected UID[:GID] or NAME[:GROUP]').optional(),
  mounts: z.array(containerMountSchema).max(128).optional(),
  capabilities: z
    .strictObject({
      add: z.array(capabilityName).max(64).optional(),
      /** `ALL` drops every capability (then `add` gives some back). */
      drop: z.array(z.union([z.literal('ALL'), capabilityName])).max(64).optional(),
    })
    .optional(),
  /** Every capability, every device, no masked paths: only with the user's consent. */
  privileged: z.boolean().optional(),
  /** false lets setuid programs gain privileges (Kubernetes' allowPrivilegeEscalation: true). */
  noNewPrivileges: z.boolean().optional(),
  /** The container's hostname (its own UTS namespace); default its name, or its pod's in a pod. */
  hostname: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, 'a hostname is lowercase letters, digits, "-" and "."').optional(),
  /**
   * Runs once to completion instead of as a service (Kubernetes' init containers, paunch's
   * detach: false): a oneshot unit that stays active after success, never restarted.
   */
  oneshot: z.boolean().optional(),
  /** With oneshot: exit codes besides 0 that count as success (paunch's exit_codes). */
  successExitCodes: z.array(z.number().int().min(1).max(255)).max(32).optional(),
  /** The pod the container belongs to: its network namespace (`network: pod`) and volumes. */
  pod: podName.optional(),
  /** host: the host's (the default, as for every system container); private: its own, loopback only; pod: the pod's. */
  network: z.enum(['host', 'private', 'pod']).optional(),
  /** true: the host's namespace instead of the container's own. Needs consent. */
  hostPid: z.boolean().optional(),
  hostIpc: z.boolean().optional(),
  hostUts: z.boolean().optional(),
  resources: z
    .strictObject({
      /** MemoryMax= of the unit. */
      memoryBytes: z.number().int().min(1 << 20).max(2 ** 50).optional(),
      /** CPUQuota= of the unit, in thousandths of a CPU (Kubernetes' millicores). */
      cpuMillis: z.number().int().min(1).max(1 << 20).optional(),
      /** CPUWeight= of the unit (1-10000, default 100): a share relative to other units, docker's cpu_shares. */
      cpuWeight: z.number().int().min(1).max(10000).optional(),
    })
    .optional(),
}));
export type ContainerSpec = z.infer<typeof containerSpecSchema>;

/** Validates a container spec from outside (a file, a request); EINVAL naming `what` and the field. */
export function parseContainerSpec(value: unknown, what: string): ContainerSpec {
  const result = containerSpecSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new SyscontainerError('EINVAL', `${what}: ${where}${issue?.message ?? 'invalid container spec'}`);
  }
  if (result.data.successExitCodes !== undefined && result.data.oneshot !== true) {
    throw new SyscontainerError('EINVAL', `${what}: successExitCodes: only for a container that runs once (oneshot)`);
  }
  if (result.data.network === 'pod' && result.data.pod === undefined) {
    throw new SyscontainerError('EINVAL', `${what}: network: "pod" needs a pod`);
  }
  for (const mount of result.data.mounts ?? []) {
    if (mount.type === 'pod-volume' && result.data.pod === undefined) {
      throw new SyscontainerError('EINVAL', `${what}: mount at ${mount.destination}: a pod volume needs a pod`);
    }
  }
  return result.data;
}

/** Where a pod's shared things live: ROOT/.pods/POD (volumes/ for emptyDirs). Removed with the pod's last container. */
export function podDirectory(root: string, pod: string): string {
  return path.join(root, '.pods', pod);
}

/** The network namespace a pod's containers join: made by the pod's unit, `ip netns` style. */
export function podNetnsName(pod: string): string {
  return `syscontainer-${pod}`;
}
export function podNetnsPath(pod: string): string {
  return `/run/netns/${podNetnsName(pod)}`;
}
/** The unit that owns a pod's network namespace; its containers Require= and come After= it. */
export function podUnitName(pod: string): string {
  return `syscontainer-pod-${pod}.service`;
}

/** Where an inline file of mount number `index` is written inside the deployment directory. */
export function inlineFilesDir(destDir: string, index: number): string {
  return path.join(destDir, 'files', String(index));
}

export interface AppliedContainerSpec {
  spec: OciRuntimeSpec;
  unit: string;
  /** Files render asks the deployment to hold (inline mounts): path relative to DESTDIR. */
  files: { path: string; content: string; mode: number }[];
  /** Host directories the container may write to without consent (its pod's volumes). */
  ownDirectories: string[];
  /** Namespace paths syscontainer itself made for the container (its pod's network). */
  ownNamespaces: string[];
}

export interface ImageCommand {
  entrypoint: readonly string[];
  cmd: readonly string[];
}

/** Kubernetes' rule: command replaces the entrypoint (and drops the image's Cmd), args replace Cmd. */
export function commandLine(containerSpec: ContainerSpec, image: ImageCommand, rendered: readonly string[]): string[] {
  if (containerSpec.command === undefined && containerSpec.args === undefined) return [...rendered];
  // An image whose config.json came from /exports has no Entrypoint/Cmd of its own: its args are the baseline.
  const hasImageCommand = image.entrypoint.length > 0 || image.cmd.length > 0;
  const entrypoint = containerSpec.command ?? (hasImageCommand ? image.entrypoint : rendered.slice(0, 1));
  const args = containerSpec.args ?? (containerSpec.command !== undefined ? [] : hasImageCommand ? image.cmd : rendered.slice(1));
  const line = [...entrypoint, ...args];
  if (line.length === 0) throw new SyscontainerError('EINVAL', 'the container spec leaves the container without a command');
  return line;
}

function setEnv(env: readonly string[], values: Readonly<Record<string, string>>): string[] {
  const names = new Set(Object.keys(values));
  return [...env.filter((e) => !names.has(e.slice(0, e.indexOf('=') === -1 ? e.length : e.indexOf('=')))), ...Object.entries(values).map(([k, v]) => `${k}=${v}`)];
}

function effectiveCapabilities(current: readonly string[], containerSpec: ContainerSpec): string[] {
  if (containerSpec.privileged === true) return [...allCapabilityNames];
  const drop = containerSpec.capabilities?.drop ?? [];
  const kept = drop.includes('ALL') ? [] : current.filter((c) => !drop.includes(c));
  for (const cap of containerSpec.capabilities?.add ?? []) if (!kept.includes(cap)) kept.push(cap);
  return kept;
}

function setNamespace(spec: OciRuntimeSpec, type: 'pid' | 'ipc' | 'uts' | 'network', value: 'host' | 'own' | { path: string }): void {
  const namespaces = (spec.linux.namespaces ?? []).filter((n) => n.type !== type);
  if (value === 'own') namespaces.push({ type });
  else if (value !== 'host') namespaces.push({ type, path: value.path });
  spec.linux.namespaces = namespaces;
}

/** Adds `lines` to the [Service] section of a unit (before its next section, or at the end). Pure. */
export function addServiceLines(unit: string, section: 'Service' | 'Unit', lines: readonly string[]): string {
  if (lines.length === 0) return unit;
  const text = unit.endsWith('\n') ? unit : `${unit}\n`;
  const header = new RegExp(`^\\[${section}\\][ \\t]*$`, 'm').exec(text);
  if (header === null) return `${text}\n[${section}]\n${lines.join('\n')}\n`;
  const after = header.index + header[0].length + 1;
  const next = /^\[[^\]]+\][ \t]*$/m.exec(text.slice(after));
  const at = next === null ? text.length : after + next.index;
  const body = text.slice(0, at).replace(/\n*$/, '\n');
  return `${body}${lines.join('\n')}\n${next === null ? '' : '\n'}${text.slice(at)}`;
}

/**
 * Applies `containerSpec` onto a rendered config.json and unit (copies; the inputs are not
 * changed). `user` is already resolved through the image's passwd; `root` is the deployments
 * root (pods' directories live under it). Throws EINVAL when the result would be unusable.
 */
export function applyContainerSpec(input: {
  containerSpec: ContainerSpec;
  spec: OciRuntimeSpec;
  unit: string;
  image: ImageCommand;
  destDir: string;
  root: string;
  user?: { uid: number; gid: number };
}): AppliedContainerSpec {
  const c = input.containerSpec;
  const spec = structuredClone(input.spec) as OciRuntimeSpec;
  const files: AppliedContainerSpec['files'] = [];
  const ownDirectories: string[] = [];
  const ownNamespaces: string[] = [];

  spec.process.args = commandLine(c, input.image, spec.process.args);
  if (c.env !== undefined) spec.process.env = setEnv(spec.process.env ?? [], c.env);
  if (c.workingDir !== undefined) spec.process.cwd = c.workingDir;
  if (input.user !== undefined) spec.process.user = { ...spec.process.user, uid: input.user.uid, gid: input.user.gid };
  if (c.noNewPrivileges !== undefined) spec.process.noNewPrivileges = c.noNewPrivileges;

  if (c.capabilities !== undefined || c.privileged === true) {
    const current = spec.process.capabilities?.bounding ?? [...defaultCapabilities];
    const caps = effectiveCapabilities(current, c);
    spec.process.capabilities = { ...spec.process.capabilities, bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
  }
  if (c.privileged === true) {
    spec.linux.resources = { ...spec.linux.resources, devices: [{ allow: true, access: 'rwm' }] };
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
    // /sys and cgroups writable, as for podman's --privileged.
    spec.mounts = (spec.mounts ?? []).map((m) => (m.destination === '/sys' || m.destination === '/sys/fs/cgroup' ? { ...m, options: (m.options ?? []).filter((o) => o !== 'ro') } : m));
  }

  if (c.hostPid === true) setNamespace(spec, 'pid', 'host');
  if (c.hostIpc === true) setNamespace(spec, 'ipc', 'host');
  if (c.hostUts === true) setNamespace(spec, 'uts', 'host');
  let unit = input.unit;
  if (c.network === 'private') setNamespace(spec, 'network', 'own');
  else if (c.network === 'pod' && c.pod !== undefined) {
    const netns = podNetnsPath(c.pod);
    setNamespace(spec, 'network', { path: netns });
    ownNamespaces.push(netns);
    const podUnit = podUnitName(c.pod);
    unit = addServiceLines(unit, 'Unit', [`# The pod's network namespace (${netns}) is owned by ${podUnit}.`, `Requires=${podUnit}`, `After=${podUnit}`]);
  } else if (c.network === 'host') setNamespace(spec, 'network', 'host');
  if (c.network === 'private' || c.network === 'pod') {
    // Its own network: the host's name resolution files still apply, nothing more.
    spec.hostname = c.pod ?? spec.hostname;
  }
  if (c.hostname !== undefined) spec.hostname = c.hostname;
  if (c.oneshot === true) {
    // Done when the command exits 0; it stays "active (exited)" so what Requires= it may start.
    unit = unit.replace(/^(Restart|RestartSec|Type|RemainAfterExit)=.*\n/gm, '');
    const codes = c.successExitCodes ?? [];
    unit = addServiceLines(unit, 'Service', ['# Runs once to completion (container spec oneshot).', 'Type=oneshot', 'RemainAfterExit=yes', 'Restart=no', ...(codes.length > 0 ? [`SuccessExitStatus=${codes.join(' ')}`] : [])]);
    spec.annotations = { ...spec.annotations, [oneshotAnnotation]: 'true', ...(codes.length > 0 ? { [successExitCodesAnnotation]: codes.join(',') } : {}) };
  }

  const mounts: OciMount[] = [];
  const destinations = new Set<string>();
  (c.mounts ?? []).forEach((m, index) => {
    if (m.destination === '/') throw new SyscontainerError('EINVAL', 'a mount at / is not supported');
    if (destinations.has(m.destination)) throw new SyscontainerError('EINVAL', `two mounts at ${m.destination}`);
    destinations.add(m.destination);
    const ro = (readOnly: boolean | undefined) => (readOnly === true ? 'ro' : 'rw');
    switch (m.type) {
      case 'bind':
        mounts.push({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', ro(m.readOnly), 'nosuid', 'nodev'] });
        break;
      case 'tmpfs':
        mounts.push({ destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', ...(m.sizeBytes ? [`size=${m.sizeBytes}`] : [])] });
        break;
      case 'pod-volume': {
        const volumes = path.join(podDirectory(input.root, c.pod as string), 'volumes');
        const source = path.join(volumes, m.volume, m.subPath ?? '');
        ownDirectories.push(path.join(volumes, m.volume));
        mounts.push({ destination: m.destination, type: 'bind', source, options: ['rbind', ro(m.readOnly), 'nosuid', 'nodev'] });
        break;
      }
      case 'files': {
        const dir = inlineFilesDir(input.destDir, index);
        for (const f of m.files) files.push({ path: path.relative(input.destDir, path.join(dir, f.name)), content: f.content, mode: f.mode ?? 0o644 });
        mounts.push({ destination: m.destination, type: 'bind', source: dir, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
        break;
      }
      case 'file': {
        const file = path.join(inlineFilesDir(input.destDir, index), path.posix.basename(m.destination));
        files.push({ path: path.relative(input.destDir, file), content: m.content, mode: m.mode ?? 0o644 });
        mounts.push({ destination: m.destination, type: 'bind', source: file, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
        break;
      }
    }
  });
  if (mounts.length > 0) {
    // The caller's mounts win over the image's at the same place.
    spec.mounts = [...(spec.mounts ?? []).filter((m) => !destinations.has(m.destination)), ...mounts];
  }

  const limits: string[] = [];
  if (c.resources?.memoryBytes !== undefined) limits.push(`MemoryMax=${c.resources.memoryBytes}`);
  if (c.resources?.cpuMillis !== undefined) limits.push(`CPUQuota=${Math.max(1, Math.round(c.resources.cpuMillis / 10))}%`);
  if (c.resources?.cpuWeight !== undefined) limits.push(`CPUWeight=${c.resources.cpuWeight}`);
  unit = addServiceLines(unit, 'Service', limits.length > 0 ? ['# Limits of the container spec (the container lives in this unit\'s cgroup).', ...limits] : []);

  return { spec, unit, files, ownDirectories, ownNamespaces };
}
