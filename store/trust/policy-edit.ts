// `trust set`: one scope's requirements replaced in policy.json, like `podman image trust set`
// and `atomic trust add`. The file is read and validated first (an invalid policy is not
// edited, so nothing it says is lost by accident), changed as a JSON document (transports and
// fields we do not read are kept as they were), validated again, and replaced atomically.
// Key files are checked to hold keys of the right kind before they are named.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { SyscontainerError } from '../../common/errors.js';
import { isValidRegistryHost } from '../oci/reference.js';
import { readKeyring } from './openpgp-signature.js';
import { parsePolicy, scopeFault } from './policy.js';
import { readSigstoreKeys } from './sigstore-signature.js';
import { policyPath, type TrustSettings } from './trust-settings.js';

export type TrustType = 'accept' | 'reject' | 'signedBy' | 'sigstoreSigned';
export const trustTypes: readonly TrustType[] = ['accept', 'reject', 'signedBy', 'sigstoreSigned'];

export interface TrustScope {
  /** `default` for the global default, else a transport. */
  transport: 'default' | string;
  /** The scope within the transport ("" for the transport default). */
  scope: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Why `scope` is not a docker scope a user means: host[:port], a namespace, a repository[:tag], or *.domain. */
function dockerScopeFault(scope: string): string | undefined {
  if (/^\*\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/.test(scope)) return undefined;
  const [host, ...path] = scope.split('/');
  if (host === undefined || !isValidRegistryHost(host)) return `"${scope}" does not start with a registry host`;
  if (path.length > 0 && !host.includes('.') && !host.includes(':') && host !== 'localhost') {
    return `"${scope}" is not fully qualified (write the registry too, e.g. docker.io/${scope})`;
  }
  const last = path.at(-1);
  const colon = last?.indexOf(':') ?? -1;
  if (last !== undefined && colon >= 0) {
    if (!/^[\w][\w.-]{0,127}$/.test(last.slice(colon + 1))) return `"${scope}" has an invalid tag`;
    path[path.length - 1] = last.slice(0, colon);
  }
  if (!path.every((component) => pathComponent.test(component))) return `"${scope}" has an invalid repository path`;
  return undefined;
}

/** `default`, `TRANSPORT:SCOPE` (oci:/srv/images, docker:quay.io/x) or a docker scope. */
export function parseTrustScope(text: string): TrustScope {
  if (text === 'default') return { transport: 'default', scope: '' };
  const prefixed = /^(docker|oci|oci-archive|docker-archive):(.*)$/.exec(text);
  const scope: TrustScope = prefixed ? { transport: prefixed[1]!, scope: prefixed[2]! } : { transport: 'docker', scope: text };
  const fault = scope.transport === 'docker' ? (scope.scope === '' ? undefined : dockerScopeFault(scope.scope)) : scopeFault(scope.transport, scope.scope);
  if (fault !== undefined) throw new SyscontainerError('EINVAL', `scope ${text}: ${fault}`);
  return scope;
}

async function checkedKeyFiles(type: TrustType, files: string[]): Promise<string[]> {
  if (type === 'accept' || type === 'reject') {
    if (files.length > 0) throw new SyscontainerError('EUSAGE', `--pubkeysfile is for signedBy and sigstoreSigned, not ${type}`);
    return [];
  }
  if (files.length === 0) throw new SyscontainerError('EUSAGE', `--type ${type} needs --pubkeysfile FILE (the keys signatures must be made by)`);
  const paths: string[] = [];
  for (const file of files) {
    const path = isAbsolute(file) ? file : resolve(file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new SyscontainerError('EINVAL', `key file ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      if (type === 'signedBy') {
        if ((await readKeyring([bytes])).keys.length === 0) throw new Error('no public keys in it');
      } else readSigstoreKeys(bytes);
    } catch (error) {
      throw new SyscontainerError('EINVAL', `key file ${path}: ${(error as Error).message}${type === 'signedBy' ? ' (export one with gpg --export KEY > FILE)' : ' (a PEM public key, as cosign.pub)'}`);
    }
    paths.push(path);
  }
  return paths;
}

function requirementFor(type: TrustType, keys: string[]): Record<string, unknown> {
  const keyFields = keys.length === 1 ? { keyPath: keys[0] } : { keyPaths: keys };
  switch (type) {
    case 'accept':
      return { type: 'insecureAcceptAnything' };
    case 'reject':
      return { type: 'reject' };
    case 'signedBy':
      return { type: 'signedBy', keyType: 'GPGKeys', ...keyFields };
    case 'sigstoreSigned':
      return { type: 'sigstoreSigned', ...keyFields };
  }
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

/**
 * Sets `scope`'s requirements to one of `type` in the policy in force (or creates the policy,
 * accepting everything else, as a host without one behaves). Returns the file written.
 */
export async function setTrust(settings: TrustSettings, scopeText: string, type: TrustType, keyFiles: string[]): Promise<string> {
  if (!trustTypes.includes(type)) throw new SyscontainerError('EUSAGE', `--type must be one of ${trustTypes.join(', ')} (got ${type})`);
  const scope = parseTrustScope(scopeText);
  const keys = await checkedKeyFiles(type, keyFiles);
  const path = (await policyPath(settings)) ?? settings.policyDefault;
  let doc: { default?: unknown; transports?: Record<string, Record<string, unknown>> } = { default: [{ type: 'insecureAcceptAnything' }] };
  let fileMode = 0o644;
  let existing: Buffer | undefined;
  try {
    existing = await readFile(path);
    fileMode = await mode(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new SyscontainerError('ECONFIG', `policy ${path}: cannot read (${(error as Error).message})`);
  }
  if (existing !== undefined) {
    parsePolicy(existing, path); // refuses to edit a policy that does not validate
    doc = JSON.parse(existing.toString('utf8')) as typeof doc;
  }
  const requirement = requirementFor(type, keys);
  if (scope.transport === 'default') doc.default = [requirement];
  else {
    doc.transports ??= {};
    doc.transports[scope.transport] ??= {};
    doc.transports[scope.transport]![scope.scope] = [requirement];
  }
  const text = `${JSON.stringify(doc, null, 4)}\n`;
  parsePolicy(text, path);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, text, fileMode);
  return path;
}
