// Image references as Docker and podman parse them: `[registry[:port]/]repo[:tag][@digest]`.
// Pure functions, no I/O. The grammar follows the distribution reference grammar; only sha256
// digests are accepted because every other part of the tool verifies with sha256.
import { SyscontainerError } from '../../common/errors.js';
import type { RegistriesConf } from '../registry/registries-conf.js';

export interface ImageReference {
  /** Host[:port] of the registry; undefined for a short name ("fedora", "foo/bar:1"). */
  registry?: string;
  /** Path inside the registry, lowercase components ("library/busybox"). */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

export const defaultTag = 'latest';
export const dockerHub = 'docker.io';

// One path component: lowercase alphanumerics joined by `.`, `_`, `__` or any number of `-`.
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const registryPattern = new RegExp(`^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`);
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;
const nameTotalLengthMax = 255;

function invalid(input: string, why: string): SyscontainerError {
  return new SyscontainerError('EREFERENCE', `invalid image reference "${printable(input)}": ${why}`);
}

/** Keeps a hostile string from breaking the one-line message. */
function printable(input: string): string {
  const clean = input.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

export function isValidRegistryHost(host: string): boolean {
  return registryPattern.test(host);
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}

/**
 * Parses a reference without consulting any configuration. A first path component is a
 * registry when it contains `.` or `:`, is `localhost`, or has upper-case letters (Docker's
 * rule); `index.docker.io` becomes `docker.io` and one-component Docker Hub names get
 * `library/`. Throws EREFERENCE naming the input and the fault.
 */
export function parseReference(input: string): ImageReference {
  if (input.length === 0) throw invalid(input, 'empty');
  if (input.length > nameTotalLengthMax + 1 + 128 + 1 + 71) throw invalid(input, 'too long');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digest.includes(':')) throw invalid(input, `"${printable(digest)}" is not a digest`);
    if (!digest.startsWith('sha256:')) throw invalid(input, `unsupported digest algorithm "${printable(digest.split(':')[0] ?? '')}"`);
    if (!digestPattern.test(digest)) throw invalid(input, 'digest must be sha256 followed by 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw invalid(input, `invalid tag "${printable(tag)}"`);
  }
  let registry: string | undefined;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!registryPattern.test(registry)) throw invalid(input, `invalid registry "${printable(registry)}"`);
    }
  }
  if (repository.length === 0) throw invalid(input, 'missing repository name');
  if (repository !== repository.toLowerCase()) throw invalid(input, 'repository name must be lowercase');
  for (const component of repository.split('/')) {
    if (!pathComponent.test(component)) {
      throw invalid(input, component.length === 0 ? 'empty path component' : `invalid repository path component "${printable(component)}"`);
    }
  }
  if (registry === undefined && /^[a-f0-9]{64}$/.test(repository)) {
    throw invalid(input, 'a repository name cannot be a 64-character hex string (an image ID?)');
  }
  if (registry === 'index.docker.io') registry = dockerHub;
  if (registry === dockerHub && !repository.includes('/')) repository = `library/${repository}`;
  if ((registry ? registry.length + 1 : 0) + repository.length > nameTotalLengthMax) {
    throw invalid(input, `name longer than ${nameTotalLengthMax} characters`);
  }
  const ref: ImageReference = { repository };
  if (registry !== undefined) ref.registry = registry;
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Same reference on `registry`, with Docker Hub's `library/` rule and the default tag applied. */
function qualifyOn(ref: ImageReference, registry: string): ImageReference {
  const repository = registry === dockerHub && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository;
  const out: ImageReference = { registry, repository };
  if (ref.tag !== undefined) out.tag = ref.tag;
  else if (ref.digest === undefined) out.tag = defaultTag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}

/**
 * Fully-qualified candidates for a reference, in the order a pull should try them: the
 * reference itself when it names a registry; else the `[aliases]` entry for the short name
 * when there is one; else one candidate per `unqualified-search-registries` entry.
 * The tag defaults to `latest` when there is no digest.
 */
export function qualifyReference(ref: ImageReference, conf: Pick<RegistriesConf, 'unqualifiedSearchRegistries' | 'aliases'>): ImageReference[] {
  if (ref.registry !== undefined) return [qualifyOn(ref, ref.registry)];
  const alias = conf.aliases?.[ref.repository];
  if (alias !== undefined) {
    const target = parseReference(alias);
    if (target.registry === undefined) {
      throw new SyscontainerError('ECONFIG', `short-name alias "${ref.repository}" = "${alias}" is not fully qualified`);
    }
    return [qualifyOn({ ...ref, repository: target.repository }, target.registry)];
  }
  const registries = conf.unqualifiedSearchRegistries;
  if (registries.length === 0) {
    throw new SyscontainerError('EREFERENCE', `image ${formatReference(ref)}: short name and no unqualified-search-registries are configured`, {
      hint: 'use a fully-qualified name such as docker.io/library/NAME',
    });
  }
  return registries.map((registry) => qualifyOn(ref, registry));
}

/** `REGISTRY/REPO:TAG[@DIGEST]` (parts that are absent are left out). */
export function formatReference(ref: ImageReference): string {
  let out = ref.registry !== undefined ? `${ref.registry}/${ref.repository}` : ref.repository;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** `REGISTRY/REPO` without tag or digest. */
export function formatRepository(ref: ImageReference): string {
  return ref.registry !== undefined ? `${ref.registry}/${ref.repository}` : ref.repository;
}

/** What to ask the registry for: the digest when there is one, else the tag (default latest). */
export function manifestReferenceOf(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? defaultTag;
}
