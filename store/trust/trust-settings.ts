// Where the trust configuration lives, decided once from the command line and the
// environment (by the front end's context builder) and passed down:
//   policy      --signature-policy FILE, else (non-root) ~/.config/containers/policy.json if it
//               exists, else /etc/containers/policy.json; none at all → nothing is verified
//   registries.d  --registries.d DIR, else (non-root) ~/.config/containers/registries.d if it
//               exists, else /etc/containers/registries.d
//   default lookaside  /var/lib/containers/sigstore (root), ~/.local/share/containers/sigstore
// Root reads only the system files: system services follow the host's policy, not root's home.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SyscontainerError } from '../../common/errors.js';
import { parsePolicy, type Policy } from './policy.js';
import { directoryUrl, loadRegistriesD, type RegistriesD } from './registries-d.js';

export interface TrustSettings {
  /** Given explicitly: must exist. */
  policyFile?: string;
  /** Tried in order when policyFile is not given; the first that exists is the policy. */
  policySearch: string[];
  /** Where `trust set` writes when no policy exists yet. */
  policyDefault: string;
  /** registries.d directories, the first that exists is read. */
  registriesDirs: string[];
  /** file: URL of the lookaside used when registries.d configures none. */
  builtinLookaside: string;
}

export const systemPolicyPath = '/etc/containers/policy.json';
export const systemRegistriesDir = '/etc/containers/registries.d';

export function trustSettings(input: { signaturePolicy?: string | undefined; registriesD?: string | undefined; home?: string | undefined; uid: number }): TrustSettings {
  const user = input.uid !== 0 && input.home !== undefined && input.home !== '' ? input.home : undefined;
  const settings: TrustSettings = {
    policySearch: [...(user ? [join(user, '.config/containers/policy.json')] : []), systemPolicyPath],
    policyDefault: user ? join(user, '.config/containers/policy.json') : systemPolicyPath,
    registriesDirs: input.registriesD !== undefined ? [input.registriesD] : [...(user ? [join(user, '.config/containers/registries.d')] : []), systemRegistriesDir],
    builtinLookaside: directoryUrl(user ? join(user, '.local/share/containers/sigstore') : '/var/lib/containers/sigstore'),
  };
  if (input.signaturePolicy !== undefined) settings.policyFile = input.signaturePolicy;
  return settings;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The policy file in force, or undefined when there is none (nothing is then verified). */
export async function policyPath(settings: TrustSettings): Promise<string | undefined> {
  if (settings.policyFile !== undefined) return settings.policyFile;
  for (const candidate of settings.policySearch) if (await exists(candidate)) return candidate;
  return undefined;
}

export interface LoadedPolicy {
  path: string;
  policy: Policy;
}

/** Reads and validates the policy in force; undefined when none exists. */
export async function loadPolicy(settings: TrustSettings): Promise<LoadedPolicy | undefined> {
  const path = await policyPath(settings);
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SyscontainerError('ECONFIG', `policy ${path}: cannot read (${code ?? (error as Error).message})`, {
      cause: error,
      ...(code === 'ENOENT' ? { hint: 'create it with `syscontainer trust set`, or name another with --signature-policy' } : {}),
    });
  }
  return { path, policy: parsePolicy(bytes, path) };
}

/** registries.d in force (an empty configuration when no directory exists). */
export async function loadSignatureStores(settings: TrustSettings): Promise<RegistriesD> {
  for (const dir of settings.registriesDirs) {
    if (await exists(dir)) return loadRegistriesD(dir, settings.builtinLookaside);
  }
  return loadRegistriesD(settings.registriesDirs.at(-1) ?? systemRegistriesDir, settings.builtinLookaside);
}
