// What a container may do beyond syscontainer's default confinement, in plain words, one
// line per privilege, and who decides whether it gets them (PrivilegePolicy). Atomic's model
// is "controlled interaction with the host": what an image's own /exports templates declare
// is the reviewable contract, so the CLI grants it and prints it (`declared`); operators who
// want a hard line refuse everything beyond the default (`confined`, --confined or the
// config file); and callers that did not say (the REST service, apply files) get `consent`:
// nothing beyond the default unless granted (`--privileged`) or granted before (an update).
import path from 'node:path';
import type { OciRuntimeSpec } from './oci-runtime-spec.js';

/**
 * - consent: refused unless `allowPrivileges`, or granted to the deployment being replaced;
 * - declared: what the image's own /exports config declares is granted (and printed); images
 *   without /exports get nothing beyond the default unless `allowPrivileges`;
 * - confined: anything beyond the default is refused, naming it, `allowPrivileges` or not.
 */
export type PrivilegePolicy = 'consent' | 'declared' | 'confined';

/**
 * Capabilities a container gets by default: podman's default set without CAP_SETFCAP and
 * CAP_SETPCAP (neither is needed to run a service; both help to escalate).
 */
export const defaultCapabilities: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

/** Namespaces a container has by default; missing ones share the host's (network is shared on purpose). */
const expectedNamespaces = ['pid', 'ipc', 'uts', 'mount'] as const;

// Filesystem types that are the container's own (not host content).
const privateMountTypes = new Set(['proc', 'tmpfs', 'devpts', 'mqueue', 'sysfs', 'cgroup', 'cgroup2']);

export interface PrivilegeContext {
  /** Host directories the container may write to without consent (its own state dir). */
  ownDirectories: readonly string[];
  /** Namespace paths syscontainer made for the container itself (its pod's network): joining them is no privilege. */
  ownNamespaces?: readonly string[];
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Plain-language list of what `spec` grants beyond the defaults; empty when nothing. Pure. */
export function describeExtraPrivileges(spec: OciRuntimeSpec, context: PrivilegeContext): string[] {
  const found: string[] = [];
  const caps = new Set<string>();
  const c = spec.process.capabilities;
  for (const list of [c?.bounding, c?.effective, c?.permitted, c?.inheritable, c?.ambient]) {
    for (const cap of list ?? []) if (!defaultCapabilities.includes(cap)) caps.add(cap);
  }
  // One entry per capability, so consent given earlier can be matched one by one.
  for (const cap of [...caps].sort()) found.push(`capability ${cap}`);

  const namespaces = spec.linux.namespaces ?? [];
  for (const type of expectedNamespaces) {
    const ns = namespaces.find((n) => n.type === type);
    if (ns === undefined) found.push(`the host's ${type === 'mount' ? 'mount' : type.toUpperCase()} namespace`);
  }
  for (const ns of namespaces) {
    if (ns.path !== undefined && ns.path !== '' && !(context.ownNamespaces ?? []).includes(ns.path)) found.push(`joins the namespace ${ns.path} (${ns.type})`);
  }

  for (const mount of spec.mounts ?? []) {
    const type = mount.type ?? '';
    const options = mount.options ?? [];
    const isBind = type === 'bind' || options.includes('bind') || options.includes('rbind');
    if (!isBind && privateMountTypes.has(type)) continue;
    const source = path.resolve('/', mount.source ?? '');
    const readOnly = options.includes('ro');
    if (source === '/') {
      found.push(`mounts the host's root filesystem at ${mount.destination}${readOnly ? '' : ' read-write'}`);
    } else if (!readOnly && !context.ownDirectories.some((own) => isInside(source, own))) {
      found.push(`mounts host path ${source} read-write at ${mount.destination}`);
    }
  }

  for (const rule of spec.linux.resources?.devices ?? []) {
    if (rule.allow && (rule.type === undefined || rule.type === 'a') && rule.major == null) {
      found.push('access to all host devices');
    }
  }
  for (const device of spec.linux.devices ?? []) found.push(`device ${device.path}`);
  if (spec.process.noNewPrivileges !== true && spec.process.user.uid !== 0) {
    found.push('may gain privileges through setuid programs (noNewPrivileges is off)');
  }
  return found;
}
