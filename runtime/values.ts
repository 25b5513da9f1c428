// The variables templates are rendered with, as Atomic defined them (see atomic-compat.md).
// Precedence: `--set` > computed defaults > the image's manifest.json `defaultValues`.
// Variables the installer provides cannot be overridden: `--set` on them is an error.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SyscontainerError } from '../common/errors.js';
import { runcPidFile } from './exit-status.js';

/** Set by the installer; `--set` may not change them, defaultValues cannot either. */
export const installerVariables = [
  'DESTDIR',
  'NAME',
  'EXEC_START',
  'EXEC_STOP',
  'EXEC_STARTPRE',
  'EXEC_STOPPOST',
  'HOST_UID',
  'HOST_GID',
  'IMAGE_NAME',
  'IMAGE_ID',
] as const;

/** Computed by default, but `--set` wins. */
export const overridableVariables = [
  'RUN_DIRECTORY',
  'STATE_DIRECTORY',
  'CONF_DIRECTORY',
  'PIDFILE',
  'UUID',
  'ALL_PROCESS_CAPABILITIES',
  'RUNTIME',
] as const;

/** Every capability name the kernel may know, in the kernel's numbering order. */
export const allCapabilityNames = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** The capabilities this kernel has (by /proc/sys/kernel/cap_last_cap), or all we know. */
export function hostCapabilities(): string[] {
  try {
    const last = Number.parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim(), 10);
    if (Number.isInteger(last) && last >= 0) return allCapabilityNames.slice(0, last + 1);
  } catch {
    // not Linux or /proc not mounted: fall through to the full list
  }
  return [...allCapabilityNames];
}

const variableNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Values are inserted raw into the unit and config.json: a newline would add unit directives,
// other control characters have no legitimate use there.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

/** Parses `KEY=VALUE` arguments of `--set`. Throws EINVAL on a malformed one. Pure. */
export function parseSetArguments(args: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new SyscontainerError('EINVAL', `--set ${JSON.stringify(arg)}: expected KEY=VALUE`);
    result[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  validateSetValues(result);
  return result;
}

/**
 * Checks user-given values: names are variable names, installer variables are not touched, values
 * hold no control characters (newlines would inject unit directives). Throws EINVAL. Pure.
 */
export function validateSetValues(set: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(set)) {
    if (!variableNamePattern.test(key)) {
      throw new SyscontainerError('EINVAL', `--set ${JSON.stringify(key)}: not a variable name ([A-Za-z_][A-Za-z0-9_]*)`);
    }
    if ((installerVariables as readonly string[]).includes(key)) {
      throw new SyscontainerError('EINVAL', `--set ${key}: this variable is set by the installer and cannot be overridden`);
    }
    if (typeof value !== 'string') {
      throw new SyscontainerError('EINVAL', `--set ${key}: value must be a string`);
    }
    if (controlCharacters.test(value)) {
      throw new SyscontainerError('EINVAL', `--set ${key}: value contains a newline or another control character`);
    }
  }
}

export interface ValuesInput {
  name: string;
  /** The deployment directory (ROOT/NAME.N), which holds rootfs/ and config.json. */
  destDir: string;
  imageName: string;
  /** Image id as users see it: the config digest without `sha256:`. */
  imageId: string;
  runtimePath: string;
  /** User's `--set` values (already validated, or validated here). */
  set?: Readonly<Record<string, string>>;
  /** manifest.json `defaultValues` of the image, if it has one. */
  defaultValues?: Readonly<Record<string, unknown>>;
  /** UUID of the previous deployment, kept across updates. */
  previousUuid?: string;
  hostUid?: number;
  hostGid?: number;
  capabilities?: readonly string[];
  /** The service template uses $PIDFILE and $EXEC_STOPPOST: start detached with a pid file. */
  detachedWithPidFile?: boolean;
}

/**
 * The unit's start/stop commands for a container run by `runtimePath` from `destDir`. Pure.
 * With `pidFile` runc detaches and writes it (Atomic did so for service templates that use both
 * $PIDFILE and $EXEC_STOPPOST, with Type=forking); otherwise runc stays the main process.
 */
export function runtimeDirectives(runtimePath: string, name: string, destDir: string, pidFile?: string) {
  // In the foreground runc writes its pid file too, once the container's process runs: what
  // a start waits for (exit-status.ts waitForStart), as systemctl start returns at the fork.
  const detach = pidFile === undefined ? `--pid-file ${destDir}/${runcPidFile} ` : `--detach --pid-file ${pidFile} `;
  return {
    // `-`: a missing or already deleted container is not a failure. Deleting before start
    // clears a container left "stopped" by a crash, which would block `runc run NAME`.
    EXEC_STARTPRE: `-${runtimePath} delete --force ${name}`,
    EXEC_START: `${runtimePath} run ${detach}--bundle ${destDir} ${name}`,
    EXEC_STOP: `-${runtimePath} kill ${name} TERM`,
    EXEC_STOPPOST: `-${runtimePath} delete --force ${name}`,
  };
}

/** All variables for rendering, by the precedence above. Pure apart from a new UUID. */
export function computeValues(input: ValuesInput): Record<string, string> {
  const set = input.set ?? {};
  validateSetValues(set);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.defaultValues ?? {})) {
    if (!variableNamePattern.test(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values[key] = String(value);
  }
  const runDirectory = set.RUN_DIRECTORY ?? '/run';
  const computed: Record<string, string> = {
    RUN_DIRECTORY: runDirectory,
    STATE_DIRECTORY: '/var/lib',
    CONF_DIRECTORY: '/etc',
    PIDFILE: `${runDirectory}/container-${input.name}.pid`,
    ALL_PROCESS_CAPABILITIES: (input.capabilities ?? hostCapabilities()).map((c) => `"${c}"`).join(',\n'),
    RUNTIME: input.runtimePath,
  };
  // A UUID from defaultValues is only used when there is no earlier one to keep.
  computed.UUID = input.previousUuid ?? values.UUID ?? randomUUID();
  Object.assign(values, computed, set);
  Object.assign(values, {
    DESTDIR: input.destDir,
    NAME: input.name,
    HOST_UID: String(input.hostUid ?? process.getuid?.() ?? 0),
    HOST_GID: String(input.hostGid ?? process.getgid?.() ?? 0),
    IMAGE_NAME: input.imageName,
    IMAGE_ID: input.imageId,
    ...runtimeDirectives(values.RUNTIME ?? input.runtimePath, input.name, input.destDir, input.detachedWithPidFile ? values.PIDFILE : undefined),
  });
  return values;
}
