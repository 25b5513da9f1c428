// `login` and `logout`: credentials are checked against the registry before they are stored,
// so a typo is reported at once and not at the next pull.
import { normaliseAuthKey, removeCredentials, storeCredentials } from './auth-file.js';
import { SyscontainerError } from '../../common/errors.js';
import { isValidRegistryHost } from '../oci/reference.js';
import { registryFor, type RegistriesConf } from './registries-conf.js';
import { RegistryClient } from './registry-client.js';
import type { RetryOptions } from './retry.js';
import type { TokenCache } from './token-cache.js';

export interface LoginOptions {
  /** Host[:port]; `https://host/` and `index.docker.io` are accepted and normalised. */
  registry: string;
  username: string;
  password: string;
  conf: RegistriesConf;
  /** File to write (default: defaultAuthFile()). */
  authFile?: string;
  retry?: Partial<RetryOptions>;
  tokenCache?: TokenCache;
}

/** `https://Host:5000/` → `Host:5000`, `index.docker.io` → `docker.io`; EINVAL when not a host. */
export function normaliseRegistryName(input: string): string {
  const name = normaliseAuthKey(input.trim());
  const host = name.split('/')[0] ?? '';
  if (!isValidRegistryHost(host)) throw new SyscontainerError('EINVAL', `"${input.replace(/[^\x20-\x7e]/g, '?')}" is not a registry host[:port]`);
  return name;
}

/**
 * Verifies the credentials against the registry (token for Bearer, GET /v2/ for Basic), then
 * stores them. Throws EAUTH naming the registry when they are refused; nothing is written then.
 * Returns the registry key and the auth file written.
 */
export async function login(options: LoginOptions): Promise<{ registry: string; authFile: string }> {
  const registry = normaliseRegistryName(options.registry);
  if (options.username === '' || options.password === '') {
    throw new SyscontainerError('EINVAL', `registry ${registry}: user name and password must not be empty`);
  }
  const host = registry.split('/')[0]!;
  const policy = registryFor(options.conf, host);
  const clientOptions: ConstructorParameters<typeof RegistryClient>[0] = {
    registry: host,
    insecure: policy.insecure,
    credentials: { username: options.username, password: options.password },
  };
  if (options.retry !== undefined) clientOptions.retry = options.retry;
  if (options.tokenCache !== undefined) clientOptions.tokenCache = options.tokenCache;
  await new RegistryClient(clientOptions).verifyCredentials();
  const authFile = await storeCredentials(registry, options.username, options.password, options.authFile);
  return { registry, authFile };
}

/** Removes stored credentials; false when there were none for `registry`. Idempotent. */
export async function logout(registry: string, authFile?: string): Promise<boolean> {
  return removeCredentials(normaliseRegistryName(registry), authFile);
}
