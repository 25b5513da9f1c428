// login and logout: registry credentials in the auth file (auth.json format, mode 0600).
import { SyscontainerError } from '../common/errors.js';
import { loadRegistriesConf, login as registryLogin, logout as registryLogout } from '../store/index.js';
import type { AppContext } from './context.js';

export interface LoginInput {
  /** host[:port]; https://host/ and index.docker.io are accepted. */
  registry: string;
  username: string;
  password: string;
}

/** Checks the credentials against the registry, then stores them; nothing is written when they are refused. */
export async function login(app: AppContext, input: LoginInput): Promise<{ registry: string; authFile: string }> {
  const conf = await loadRegistriesConf(app.settings.registriesConf);
  return registryLogin({ ...input, conf, ...(app.settings.authFile !== undefined ? { authFile: app.settings.authFile } : {}) });
}

/** Removes the stored credentials of the registry; ENOTFOUND when there were none. */
export async function logout(app: AppContext, input: { registry: string }): Promise<void> {
  const removed = await registryLogout(input.registry, app.settings.authFile);
  if (!removed) throw new SyscontainerError('ENOTFOUND', `not logged in to ${input.registry}`);
}
