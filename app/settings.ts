// Where the settings of every operation come from: the front end's flags, else the
// environment, else the defaults. The environment is read here and nowhere below: the
// context built from these settings passes them down to the store and the runtime.
import { existsSync } from 'node:fs';
import { defaultConfigFile } from './config-file.js';
import { trustSettings, type RetryOptions, type TrustSettings } from '../store/index.js';

export interface Settings {
  /** Store and deployments: /var/lib/containers/atomic. */
  root: string;
  /** containers-registries.conf(5) to read; undefined: the store's default path. */
  registriesConf: string | undefined;
  /** auth.json with registry credentials; undefined: the containers/docker search path. */
  authFile: string | undefined;
  /** Show the cause chain of errors. */
  debug: boolean;
  /** Where units go: /etc/systemd/system. */
  unitDir: string;
  /** Where tmpfiles.d files go: /etc/tmpfiles.d. */
  tmpfilesDir: string;
  /** Where images' /exports/hostfs files go: '/' (another root for tests and image builds). */
  hostRoot: string;
  /** The OCI runtime binary written into units, by absolute path. */
  runtimePath: string;
  /** How long a started container must stay up to count as started (ms); undefined: the runtime's default. */
  settleMs: number | undefined;
  /** Talk to a systemd (and its runc) in the namespaces of this pid, through nsenter: the test harness's. */
  systemdNsenterPid: string | undefined;
  /** Where the signature policy and registries.d are (pulls verify by them). */
  trust: TrustSettings;
  /** How long a lock waits for another command before ELOCKED (default 5 min). */
  lockWaitMs: number | undefined;
  /** Registry retry and timeout tuning; empty for the defaults. */
  retry: Partial<RetryOptions>;
  /** Largest uncompressed layer a pull accepts (default 64 GiB). */
  maxUncompressedBytes: number | undefined;
  /**
   * The environment these settings were read from: what a syscontainer command started on
   * the user's behalf (a health check's on-failure action) runs with, so it sees the same ones.
   */
  environment: Readonly<NodeJS.ProcessEnv>;
  /** The site's syscontainer.conf (app/config-file.ts): /etc/containers/syscontainer.conf. */
  configFile: string;
}

/** What a front end's options may set; each wins over its environment variable. */
export interface SettingFlags {
  root?: string | undefined;
  registriesConf?: string | undefined;
  authFile?: string | undefined;
  debug?: boolean | undefined;
  unitDir?: string | undefined;
  runtimePath?: string | undefined;
  signaturePolicy?: string | undefined;
  registriesD?: string | undefined;
}

export const defaultRoot = '/var/lib/containers/atomic';

/**
 * The environment variables read, each the default of the flag named alike (see the README's
 * Commands section).
 */
export const settingVariables = {
  root: 'SYSCONTAINER_ROOT',
  registriesConf: 'SYSCONTAINER_REGISTRIES_CONF',
  debug: 'SYSCONTAINER_DEBUG',
  unitDir: 'SYSCONTAINER_UNIT_DIR',
  runtimePath: 'SYSCONTAINER_RUNTIME',
  tmpfilesDir: 'SYSCONTAINER_TMPFILES_DIR',
  hostRoot: 'SYSCONTAINER_HOST_ROOT',
  settleMs: 'SYSCONTAINER_SETTLE_MS',
  systemdNsenterPid: 'SYSCONTAINER_SYSTEMD_NSENTER_PID',
  signaturePolicy: 'SYSCONTAINER_SIGNATURE_POLICY',
  registriesD: 'SYSCONTAINER_REGISTRIES_D',
  lockWaitMs: 'SYSCONTAINER_LOCK_WAIT_MS',
  configFile: 'SYSCONTAINER_CONFIG',
} as const;

/**
 * For tests and slow or flaky networks (unset, empty or malformed values leave the default):
 *   SYSCONTAINER_STALL_TIMEOUT_MS     no body bytes this long → abort and retry/resume (default 30 s)
 *   SYSCONTAINER_REQUEST_TIMEOUT_MS   response headers must arrive within this (default 60 s)
 *   SYSCONTAINER_RETRY_TRIES          attempts per request (default 5)
 *   SYSCONTAINER_RETRY_BASE_MS        first backoff (default 200 ms)
 *   SYSCONTAINER_MAX_LAYER_BYTES      largest uncompressed layer accepted (default 64 GiB)
 */
function pullTuning(env: NodeJS.ProcessEnv): Pick<Settings, 'retry' | 'maxUncompressedBytes'> {
  const num = (key: string): number | undefined => {
    const raw = env[key];
    if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
    return Number(raw);
  };
  const retry: Partial<RetryOptions> = {};
  const stall = num('SYSCONTAINER_STALL_TIMEOUT_MS');
  if (stall !== undefined && stall > 0) retry.stallTimeoutMs = stall;
  const request = num('SYSCONTAINER_REQUEST_TIMEOUT_MS');
  if (request !== undefined && request > 0) retry.requestTimeoutMs = request;
  const tries = num('SYSCONTAINER_RETRY_TRIES');
  if (tries !== undefined && tries > 0) retry.tries = tries;
  const base = num('SYSCONTAINER_RETRY_BASE_MS');
  if (base !== undefined) {
    retry.baseDelayMs = base;
    retry.maxDelayMs = Math.max(base, Math.min(5_000, base * 16));
    retry.retryAfterCapMs = Math.max(base, Math.min(30_000, base * 16));
  }
  const maxLayer = num('SYSCONTAINER_MAX_LAYER_BYTES');
  return { retry, maxUncompressedBytes: maxLayer !== undefined && maxLayer > 0 ? maxLayer : undefined };
}

/** Finds `runc` on PATH (or the usual places) so that units name it by absolute path. */
function defaultRuntimePath(pathVariable: string | undefined): string {
  const dirs = [...(pathVariable ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(`${dir}/runc`)) return `${dir}/runc`;
  }
  return '/usr/bin/runc';
}

function variables(env: NodeJS.ProcessEnv): (key: keyof typeof settingVariables) => string | undefined {
  return (key) => {
    const value = env[settingVariables[key]];
    return value === '' ? undefined : value;
  };
}

/**
 * The settings that find a container and its systemd (root, the harness's nsenter pid, debug,
 * the environment), without the registry and signature ones: all a health check needs, read
 * by the light entry each health timer starts (nothing of the store is loaded for them).
 */
export type ContainerSettings = Pick<Settings, 'root' | 'debug' | 'systemdNsenterPid' | 'environment'>;

export function readContainerSettings(env: NodeJS.ProcessEnv, flags: Pick<SettingFlags, 'root' | 'debug'> = {}): ContainerSettings {
  const variable = variables(env);
  return {
    root: flags.root ?? variable('root') ?? defaultRoot,
    debug: flags.debug === true || variable('debug') === '1',
    systemdNsenterPid: variable('systemdNsenterPid'),
    environment: env,
  };
}

/** Settings from `flags`, else `env`, else the defaults. Reads nothing but `env` (and PATH's directories for runc). */
export function readSettings(env: NodeJS.ProcessEnv, flags: SettingFlags = {}): Settings {
  const variable = variables(env);
  const settle = variable('settleMs');
  const lockWait = variable('lockWaitMs');
  return {
    ...readContainerSettings(env, flags),
    // CONTAINERS_REGISTRIES_CONF is the containers tools' own name for it.
    registriesConf: flags.registriesConf ?? variable('registriesConf') ?? (env.CONTAINERS_REGISTRIES_CONF || undefined),
    // Without --auth-file, store/registry/auth-file.ts searches as containers-auth.json(5) says (REGISTRY_AUTH_FILE first).
    authFile: flags.authFile,
    unitDir: flags.unitDir ?? variable('unitDir') ?? '/etc/systemd/system',
    tmpfilesDir: variable('tmpfilesDir') ?? '/etc/tmpfiles.d',
    hostRoot: variable('hostRoot') ?? '/',
    runtimePath: flags.runtimePath ?? variable('runtimePath') ?? defaultRuntimePath(env.PATH),
    settleMs: settle !== undefined && /^\d+$/.test(settle) ? Number(settle) : undefined,
    trust: trustSettings({
      signaturePolicy: flags.signaturePolicy ?? variable('signaturePolicy'),
      registriesD: flags.registriesD ?? variable('registriesD'),
      home: env.HOME,
      uid: process.getuid?.() ?? 0,
    }),
    lockWaitMs: lockWait !== undefined && lockWait !== '' && Number.isFinite(Number(lockWait)) && Number(lockWait) >= 0 ? Number(lockWait) : undefined,
    ...pullTuning(env),
    configFile: variable('configFile') ?? defaultConfigFile,
  };
}
