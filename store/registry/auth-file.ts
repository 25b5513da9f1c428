// Registry credentials in the containers-auth.json(5) / Docker config.json format:
// `{"auths": {"HOST": {"auth": base64("user:pass")}}}`. Read from several files in podman's
// order; written to one file atomically (temp file + rename), mode 0600, parents 0700.
// The search path is the one containers-auth.json(5) documents, from the environment
// (REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG, HOME): this module is
// the one place that reads those variables; callers pass only an explicit --auth-file.
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { SyscontainerError } from '../../common/errors.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Where `login` writes: $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json, else /run/containers/UID/auth.json. */
export function defaultAuthFile(): string {
  const env = process.env['REGISTRY_AUTH_FILE'];
  if (env) return env;
  const runtimeDir = process.env['XDG_RUNTIME_DIR'];
  if (runtimeDir) return join(runtimeDir, 'containers', 'auth.json');
  return join('/run/containers', String(process.getuid?.() ?? 0), 'auth.json');
}

/** Files searched for credentials, most specific first (duplicates removed). */
export function authFileSearchPath(explicit?: string): string[] {
  const files: string[] = [];
  if (explicit) files.push(explicit);
  files.push(defaultAuthFile());
  const home = process.env['HOME'] || homedir();
  files.push(join(process.env['XDG_CONFIG_HOME'] || join(home, '.config'), 'containers', 'auth.json'));
  files.push(join(process.env['DOCKER_CONFIG'] || join(home, '.docker'), 'config.json'));
  return [...new Set(files)];
}

/** `https://index.docker.io/v1/` → `docker.io`; `host/` → `host`. Keys may be `host` or `host/namespace`. */
export function normaliseAuthKey(key: string): string {
  let out = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  out = out.replace(/\/v[12]$/, '');
  if (out === 'index.docker.io' || out === 'registry-1.docker.io') out = 'docker.io';
  if (out.startsWith('index.docker.io/')) out = `docker.io/${out.slice('index.docker.io/'.length)}`;
  return out;
}

interface AuthDocument {
  auths?: Record<string, unknown>;
  [key: string]: unknown;
}

async function readAuthDocument(file: string): Promise<AuthDocument | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SyscontainerError('ECONFIG', `cannot read auth file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new SyscontainerError('ECONFIG', `auth file ${file} is not valid JSON`, { cause: error });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SyscontainerError('ECONFIG', `auth file ${file} is malformed: not a JSON object`);
  }
  const auths = (doc as AuthDocument).auths;
  if (auths !== undefined && (typeof auths !== 'object' || auths === null || Array.isArray(auths))) {
    throw new SyscontainerError('ECONFIG', `auth file ${file} is malformed: "auths" is not an object`);
  }
  return doc as AuthDocument;
}

function decodeEntry(file: string, key: string, entry: unknown): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const auth = (entry as { auth?: unknown }).auth;
  // An entry without `auth` belongs to a credential helper (credsStore); we cannot use it.
  if (typeof auth !== 'string' || auth === '') return undefined;
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new SyscontainerError('ECONFIG', `auth file ${file} is malformed: entry "${key}" is not base64 of user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `host/a/b` → [`host/a/b`, `host/a`, `host`]: more specific keys win, as in containers-auth.json(5). */
function lookupKeys(name: string): string[] {
  const parts = normaliseAuthKey(name).split('/');
  const keys: string[] = [];
  for (let n = parts.length; n >= 1; n--) keys.push(parts.slice(0, n).join('/'));
  return keys;
}

/**
 * Credentials for `registry` (a host, or `host/repo` to honour namespace-scoped keys), from
 * the first file in authFileSearchPath(authFilePath) that has an entry; undefined when none.
 * Missing files are skipped; malformed ones throw ECONFIG naming the file.
 */
export async function readCredentials(registry: string, authFilePath?: string): Promise<Credentials | undefined> {
  const wanted = lookupKeys(registry);
  for (const file of authFileSearchPath(authFilePath)) {
    const doc = await readAuthDocument(file);
    if (doc?.auths === undefined) continue;
    const byKey = new Map<string, [string, unknown]>();
    for (const [key, entry] of Object.entries(doc.auths)) byKey.set(normaliseAuthKey(key), [key, entry]);
    for (const key of wanted) {
      const hit = byKey.get(key);
      if (hit === undefined) continue;
      const credentials = decodeEntry(file, hit[0], hit[1]);
      if (credentials !== undefined) return credentials;
    }
  }
  return undefined;
}

/** Writes `doc` to `file` atomically: a 0600 temp file in the same directory, then rename. */
async function writeAuthDocument(file: string, doc: AuthDocument): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFileAtomic(file, `${JSON.stringify(doc, null, '\t')}\n`, 0o600);
  } catch (error) {
    throw new SyscontainerError('ECONFIG', `cannot write auth file ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Stores (or replaces) the entry for `registry`, keeping every other entry and key of the file. */
export async function storeCredentials(registry: string, username: string, password: string, authFilePath?: string): Promise<string> {
  if (username.includes(':')) throw new SyscontainerError('EINVAL', `user name "${username}" must not contain ":"`);
  const file = authFilePath ?? defaultAuthFile();
  const doc = (await readAuthDocument(file)) ?? {};
  const key = normaliseAuthKey(registry);
  const auths: Record<string, unknown> = { ...(doc.auths ?? {}) };
  for (const existing of Object.keys(auths)) if (normaliseAuthKey(existing) === key) delete auths[existing];
  auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
  await writeAuthDocument(file, { ...doc, auths });
  return file;
}

/** Removes the entry for `registry`; returns false when there was none (nothing is written then). */
export async function removeCredentials(registry: string, authFilePath?: string): Promise<boolean> {
  const file = authFilePath ?? defaultAuthFile();
  const doc = await readAuthDocument(file);
  if (doc?.auths === undefined) return false;
  const key = normaliseAuthKey(registry);
  const auths: Record<string, unknown> = { ...doc.auths };
  let removed = false;
  for (const existing of Object.keys(auths)) {
    if (normaliseAuthKey(existing) === key) {
      delete auths[existing];
      removed = true;
    }
  }
  if (removed) await writeAuthDocument(file, { ...doc, auths });
  return removed;
}
