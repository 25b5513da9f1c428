// Which requirements of a policy apply to an image: the most specific scope of the image's
// transport that the policy names wins (the image itself, then its repository, its parent
// namespaces, its registry host, `*.domain` wildcards), then the transport's "" default,
// then the global `default`. The more general entries are ignored, as containers/image does.
import { resolve } from 'node:path';
import { formatRepository, type ImageReference } from '../oci/reference.js';
import type { Policy, Requirement } from './policy.js';

/** An image as the policy sees it: transport, identity and the namespaces above it. */
export interface PolicyImage {
  /** `docker`, `oci`, `oci-archive`, `docker-archive`. */
  transport: string;
  /** The most specific scope: `127.0.0.1:5000/etcd:3`, `/srv/images/etcd`. */
  identity: string;
  /** Less specific scopes, most specific first. */
  namespaces: string[];
  /** The Docker reference the signatures must claim (absent for local layouts, as in containers/image). */
  dockerReference?: ImageReference;
}

export interface ScopedRequirements {
  /** For messages: `docker:127.0.0.1:5000`, `docker (transport default)`, `default`. */
  scope: string;
  requirements: Requirement[];
}

/**
 * A registry image: identity `REGISTRY/REPO:TAG` or `REGISTRY/REPO@DIGEST` (a digest wins
 * over a tag: it is what is fetched), then the repository and each parent namespace, the
 * host[:port], and `*.` wildcards of the host without its port.
 */
export function dockerPolicyImage(reference: ImageReference): PolicyImage {
  const name = formatRepository(reference);
  const identity = reference.digest !== undefined ? `${name}@${reference.digest}` : `${name}:${reference.tag ?? 'latest'}`;
  const namespaces: string[] = [];
  let prefix = name;
  for (;;) {
    namespaces.push(prefix);
    const slash = prefix.lastIndexOf('/');
    if (slash < 0) break;
    prefix = prefix.slice(0, slash);
  }
  let host = prefix.replace(/:\d+$/, '');
  for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.')) {
    host = host.slice(dot + 1);
    namespaces.push(`*.${host}`);
  }
  const dockerReference: ImageReference = { registry: reference.registry!, repository: reference.repository };
  if (reference.digest !== undefined) dockerReference.digest = reference.digest;
  else dockerReference.tag = reference.tag ?? 'latest';
  return { transport: 'docker', identity, namespaces, dockerReference };
}

/**
 * An OCI layout directory (`oci`) or archive (`oci-archive`): its absolute path, then each
 * parent directory up to, not including, `/`. `realPath` should have its symlinks resolved.
 */
export function pathPolicyImage(transport: 'oci' | 'oci-archive' | 'docker-archive', realPath: string): PolicyImage {
  const identity = resolve(realPath);
  if (transport === 'docker-archive') return { transport, identity, namespaces: [] };
  const namespaces: string[] = [];
  for (let path = identity; path !== '/' && path !== ''; path = path.slice(0, Math.max(path.lastIndexOf('/'), 0))) namespaces.push(path);
  return { transport, identity, namespaces };
}

export function requirementsFor(policy: Policy, image: PolicyImage): ScopedRequirements {
  const scopes = policy.transports[image.transport];
  if (scopes !== undefined) {
    for (const scope of [image.identity, ...image.namespaces]) {
      const requirements = Object.hasOwn(scopes, scope) ? scopes[scope] : undefined;
      if (requirements !== undefined) return { scope: `${image.transport}:${scope}`, requirements };
    }
    const fallback = Object.hasOwn(scopes, '') ? scopes[''] : undefined;
    if (fallback !== undefined) return { scope: `${image.transport} (transport default)`, requirements: fallback };
  }
  return { scope: 'default', requirements: policy.default };
}
