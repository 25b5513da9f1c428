// paunch's container-startup-config (TripleO) as declared containers: the map key is the
// container's name; volumes are host binds; net host is the host's network and none a private
// one with loopback only; start_order and depends_on order them (resolved by the loader, which
// sees every file of the set).
import path from 'node:path';
import type { ContainerMount, ContainerSpec } from '../../runtime/index.js';
import type { DeclaredCheck, DeclaredContainer, DeclaredExec, DeclarationOrigin, DeclarationProblem } from './declared-container.js';
import { originWhere } from './declared-container.js';
import type { PaunchConfig, PaunchContainer } from './formats/paunch-schema.js';
import { dockerBytes } from './formats/quantities.js';

export interface PaunchDeclared {
  container: DeclaredContainer;
  startOrder: number;
  dependsOn: string[];
}

export interface PaunchExecDeclared {
  /** `after` is filled by the loader, which sees every file's start orders. */
  exec: DeclaredExec;
  startOrder: number;
}

// What an exec action uses (paunch passed only user and command to `podman exec`); every other
// field is refused by name rather than ignored.
const execFields = new Set(['action', 'command', 'user', 'start_order', 'exit_codes', 'image']);

function execAction(name: string, field: string, c: PaunchContainer, origin: DeclarationOrigin, add: (field: string, message: string, unsupported?: boolean) => void): PaunchExecDeclared | undefined {
  let ok = true;
  for (const key of Object.keys(c)) {
    if (execFields.has(key)) continue;
    const why = key === 'privileged' ? 'the command runs with the privileges of the container it runs in' : 'the command runs in a container that is already running';
    add(`${field}.${key}`, `not supported with action: exec (${why})`, true);
    ok = false;
  }
  const words = c.command === undefined ? [] : typeof c.command === 'string' ? shellWords(c.command) : c.command;
  if (words === undefined || words.length < 2) {
    add(`${field}.command`, words === undefined ? 'has an unterminated quote' : 'an exec needs the container to run in and a command: [CONTAINER, COMMAND, ARG...]');
    return undefined;
  }
  const [target, ...command] = words as [string, ...string[]];
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(target)) {
    add(`${field}.command[0]`, `${JSON.stringify(target)} is not a container name`);
    return undefined;
  }
  let user: string | undefined;
  if (c.user !== undefined) {
    user = String(c.user);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/.test(user)) {
      add(`${field}.user`, 'expected UID[:GID] or NAME[:GROUP]');
      return undefined;
    }
  }
  if (!ok) return undefined;
  return {
    exec: { name, target, command, ...(user !== undefined ? { user } : {}), exitCodes: c.exit_codes ?? [0], after: [], origin },
    startOrder: c.start_order ?? 0,
  };
}

/** Splits a command line into words as a POSIX shell would (quotes and backslashes; no expansion). Pure. */
export function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return undefined;
  if (inWord) words.push(word);
  return words;
}

/** Lines of an env file: KEY=VALUE, `#` comments and blank lines skipped, as docker reads --env-file. Pure. */
export function parseEnvFile(text: string): { env: Record<string, string>; bad: number[] } {
  const env: Record<string, string> = {};
  const bad: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq === -1 ? line.trim() : line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) || eq === -1) bad.push(i + 1);
    else env[key] = line.slice(eq + 1);
  });
  return { env, bad };
}

const volumeOptions = new Set(['ro', 'rw', 'z', 'Z', 'private', 'rprivate']);

function healthcheck(config: PaunchContainer): DeclaredCheck | undefined {
  if (config.healthcheck === undefined) return undefined;
  const test = config.healthcheck.test;
  let probe: DeclaredCheck['probe'];
  if (typeof test === 'string') probe = { type: 'shell', script: test };
  else if (test[0] === 'CMD-SHELL') probe = { type: 'shell', script: test.slice(1).join(' ') };
  else if (test[0] === 'CMD') probe = { type: 'exec', command: test.slice(1) };
  else probe = { type: 'exec', command: [...test] };
  // paunch's timer: every check_interval seconds (default 60); podman's retries and timeout.
  return { probe, intervalSeconds: config.check_interval ?? 60, timeoutSeconds: 30, retries: 3, startPeriodSeconds: 0 };
}

/**
 * The declared containers of one paunch file. `envFiles` holds the content of every env_file
 * the file names (by absolute path), read by the caller before anything changes.
 */
export function paunchContainers(
  config: PaunchConfig,
  origin: Omit<DeclarationOrigin, 'object' | 'field'>,
  envFiles: ReadonlyMap<string, string>,
): { containers: PaunchDeclared[]; execs: PaunchExecDeclared[]; problems: DeclarationProblem[] } {
  const where = originWhere({ ...origin, object: 'paunch' });
  const problems: DeclarationProblem[] = [];
  const add = (field: string, message: string, unsupported = false) => problems.push({ where, field, message, unsupported });
  const containers: PaunchDeclared[] = [];
  const execs: PaunchExecDeclared[] = [];
  for (const [name, c] of Object.entries(config)) {
    const field = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? name : JSON.stringify(name);
    const before = problems.length;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) add(field, 'a container name is 1-64 letters, digits, "_", "." or "-", not starting with "." or "-"');
    if (c.action === 'exec') {
      const declared = problems.length > before ? undefined : execAction(name, field, c, { ...origin, object: 'paunch', field }, add);
      if (declared !== undefined) execs.push(declared);
      continue;
    }
    if (c.image === undefined) {
      add(`${field}.image`, 'required');
      continue;
    }
    const image = c.image;
    const spec: ContainerSpec = { network: c.net === 'none' ? 'private' : 'host' };
    if (c.command !== undefined) {
      const words = typeof c.command === 'string' ? shellWords(c.command) : c.command;
      if (words === undefined || words.length === 0) add(`${field}.command`, words === undefined ? 'has an unterminated quote' : 'is empty');
      // paunch passes command after the image, as docker run does: it replaces the image's Cmd.
      else spec.args = words;
    }
    const env: Record<string, string> = {};
    for (const file of c.env_file === undefined ? [] : typeof c.env_file === 'string' ? [c.env_file] : c.env_file) {
      const absolute = path.resolve(origin.path === '-' ? process.cwd() : path.dirname(origin.path), file);
      const text = envFiles.get(absolute);
      if (text === undefined) {
        add(`${field}.env_file`, `${file}: cannot be read`);
        continue;
      }
      const parsed = parseEnvFile(text);
      if (parsed.bad.length > 0) add(`${field}.env_file`, `${file}: line ${parsed.bad[0]} is not KEY=VALUE`);
      Object.assign(env, parsed.env);
    }
    if (Array.isArray(c.environment)) {
      for (const entry of c.environment) {
        const eq = entry.indexOf('=');
        env[entry.slice(0, eq)] = entry.slice(eq + 1);
      }
    } else if (c.environment !== undefined) {
      for (const [key, value] of Object.entries(c.environment)) {
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) add(`${field}.environment.${key}`, 'not a valid environment variable name');
        else env[key] = String(value);
      }
    }
    if (Object.keys(env).length > 0) spec.env = env;
    const hostPaths: DeclaredContainer['hostPaths'] = [];
    const mounts: ContainerMount[] = [];
    (c.volumes ?? []).forEach((volume, i) => {
      const at = `${field}.volumes[${i}]`;
      const [source = '', destination = '', options, ...extra] = volume.split(':');
      const opts = options === undefined || options === '' ? [] : options.split(',');
      if (extra.length > 0 || !source.startsWith('/') || !destination.startsWith('/')) {
        add(at, `${JSON.stringify(volume)}: expected HOST-PATH:CONTAINER-PATH[:OPTIONS], both absolute (named volumes are not supported)`);
        return;
      }
      const unknown = opts.filter((o) => !volumeOptions.has(o));
      if (unknown.length > 0) {
        add(at, `option ${unknown[0]} not supported (ro, rw, z, Z)`, true);
        return;
      }
      const normalise = (p: string) => (p === '/' ? p : path.posix.normalize(p).replace(/\/$/, ''));
      hostPaths.push({ path: normalise(source), type: 'any' });
      mounts.push({ type: 'bind', source: normalise(source), destination: normalise(destination), ...(opts.includes('ro') ? { readOnly: true } : {}) });
    });
    if (mounts.length > 0) spec.mounts = mounts;
    if (c.pid === 'host') spec.hostPid = true;
    if (c.ipc === 'host') spec.hostIpc = true;
    if (c.uts === 'host') spec.hostUts = true;
    if (c.privileged === true) spec.privileged = true;
    if (c.user !== undefined) {
      const user = String(c.user);
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/.test(user)) add(`${field}.user`, 'expected UID[:GID] or NAME[:GROUP]');
      else spec.user = user;
    }
    if (c.cap_add?.length || c.cap_drop?.length) {
      spec.capabilities = {
        ...(c.cap_add?.length ? { add: c.cap_add } : {}),
        ...(c.cap_drop?.length ? { drop: c.cap_drop.map((cap) => (cap.toUpperCase() === 'ALL' ? 'ALL' : cap)) } : {}),
      };
    }
    if (c.mem_limit !== undefined) {
      const bytes = dockerBytes(c.mem_limit);
      if (bytes === undefined) add(`${field}.mem_limit`, `${JSON.stringify(c.mem_limit)} is not a size (e.g. 512m)`);
      else spec.resources = { ...spec.resources, memoryBytes: bytes };
    }
    if (c.cpu_shares !== undefined) spec.resources = { ...spec.resources, cpuWeight: Math.min(10000, Math.max(1, Math.round((c.cpu_shares * 100) / 1024))) };
    if (problems.length > before) continue;
    const restart = c.restart === undefined ? undefined : c.restart === 'always' || c.restart === 'unless-stopped' || c.restart === 'no' ? c.restart : 'on-failure';
    // on-failure:N: at most N restarts (0: no bound, as docker counts it).
    const retries = Number(/^on-failure:(\d+)$/.exec(c.restart ?? '')?.[1] ?? 0);
    if (retries > 1000) add(`${field}.restart`, 'at most 1000 retries');
    const oneshot = c.detach === false;
    if (oneshot) spec.oneshot = true;
    const successCodes = (c.exit_codes ?? []).filter((code) => code !== 0);
    if (oneshot && successCodes.length > 0) spec.successExitCodes = [...new Set(successCodes)].sort((a, b) => a - b);
    else if (!oneshot && c.exit_codes !== undefined) add(`${field}.exit_codes`, 'only for a container that runs once (detach: false) or an exec', true);
    const check = healthcheck(c);
    if (oneshot && check !== undefined) {
      add(`${field}.healthcheck`, 'a container with detach: false runs to completion and has no health check');
      continue;
    }
    containers.push({
      container: {
        name,
        image,
        pull: 'missing',
        role: oneshot ? 'oneshot' : 'service',
        spec,
        ...(oneshot ? { restart: 'no' as const } : restart !== undefined ? { restart, ...(restart === 'on-failure' && retries > 0 ? { restartRetries: retries } : {}) } : {}),
        ...(check !== undefined ? { liveness: check } : {}),
        requires: [],
        wants: [],
        after: [],
        hostPaths,
        origin: { ...origin, object: 'paunch', field },
      },
      startOrder: c.start_order ?? 0,
      dependsOn: c.depends_on ?? [],
    });
  }
  return { containers, execs, problems };
}

/** paunch's env_file paths of a config, absolute (relative ones are relative to the config file's directory). */
export function envFilesOf(config: PaunchConfig, file: string): string[] {
  const base = file === '-' ? process.cwd() : path.dirname(file);
  return Object.values(config).flatMap((c) => (c.env_file === undefined ? [] : typeof c.env_file === 'string' ? [c.env_file] : c.env_file).map((f) => path.resolve(base, f)));
}
