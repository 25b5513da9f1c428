// From what a user types to a source and the name the image is stored under:
// `gscrivano/spc-etcd` (short name, resolved through registries.conf), a full reference,
// `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG]` or `dockertar:/FILE`.
import { basename } from 'node:path';
import type { ImageStore } from '../image-store.js';
import { isOciLayoutSpec, OciLayoutSource, parseOciLayoutSpec, type OciLayoutSpec } from '../sources/oci-layout-source.js';
import { pullFromSource, type PullOptions, type PullResult } from './pull-from-source.js';
import { formatReference, manifestReferenceOf, parseReference, qualifyReference } from '../oci/reference.js';
import { retryOptions } from '../registry/retry.js';
import { openRegistrySource, type RegistrySourceSettings } from './open-registry-source.js';
import { pullTrust } from '../trust/pull-trust.js';
import type { TrustSettings } from '../trust/trust-settings.js';
import { DockerArchiveSource, isDockerArchiveSpec, parseDockerArchiveSpec, type DockerArchiveSpec } from '../sources/docker-archive-source.js';

export interface SourceSettings extends RegistrySourceSettings {
  /** Where the signature policy and registries.d are; absent: nothing is verified. */
  trust?: TrustSettings | undefined;
  /** Largest uncompressed layer accepted, unless the pull's options say (default: defaultMaxUncompressedBytes, 64 GiB). */
  maxUncompressedBytes?: number | undefined;
}

/**
 * True for what names a file or directory rather than a registry image (oci:, oci-archive:,
 * docker-archive:, dockertar:): pulled (imported) before it can be found in the store by the
 * name the pull gives it.
 */
export function isLocalImageReference(input: string): boolean {
  return isOciLayoutSpec(input) || isDockerArchiveSpec(input);
}

/** Pulls `input` into `store`. See pullFromSource for what is guaranteed. */
export async function pullImage(
  store: ImageStore,
  input: string,
  settings: SourceSettings = {},
  options: PullOptions = {},
): Promise<PullResult> {
  if (settings.maxUncompressedBytes !== undefined && options.maxUncompressedBytes === undefined) {
    options = { ...options, maxUncompressedBytes: settings.maxUncompressedBytes };
  }
  const trust = settings.trust !== undefined ? await pullTrust(settings.trust) : undefined;
  if (isOciLayoutSpec(input)) {
    const spec = parseOciLayoutSpec(input);
    return pullFromLayout(store, spec, { ...options, trust: await trust?.layout(spec.transport, spec.path) });
  }
  if (isDockerArchiveSpec(input)) {
    const spec = parseDockerArchiveSpec(input);
    return pullFromDockerArchive(store, spec, { ...options, trust: await trust?.layout('docker-archive', spec.path) });
  }
  const source = await openRegistrySource(input, settings);
  const { requestTimeoutMs, stallTimeoutMs } = retryOptions(settings.retry ?? {});
  const check = trust?.registry(source, source.reference, { requestTimeoutMs, stallTimeoutMs });
  return pullFromSource(store, source, manifestReferenceOf(source.reference), formatReference(source.reference), { ...options, trust: check });
}

async function pullFromLayout(store: ImageStore, spec: OciLayoutSpec, options: PullOptions): Promise<PullResult> {
  const source = await OciLayoutSource.open(spec);
  try {
    return await pullFromSource(store, source, spec.tag ?? '', layoutImageName(spec.path, spec.tag), options);
  } finally {
    await source.close();
  }
}

/** A `docker save` tar, stored under its RepoTags name (NAME:TAG as in the tar, as Atomic did). */
async function pullFromDockerArchive(store: ImageStore, spec: DockerArchiveSpec, options: PullOptions): Promise<PullResult> {
  const source = await DockerArchiveSource.open(spec);
  try {
    return await pullFromSource(store, source, '', source.imageName, options);
  } finally {
    await source.close();
  }
}

/**
 * The name an image from a layout is stored under: its ref.name when that is a full image
 * reference (as skopeo writes them), else localhost/DIRNAME:TAG as podman does.
 */
function layoutImageName(path: string, tag: string | undefined): string {
  if (tag !== undefined) {
    try {
      const ref = parseReference(tag);
      if (ref.registry !== undefined) return formatReference(qualifyReference(ref, { unqualifiedSearchRegistries: [], aliases: {} })[0]!);
    } catch {
      // not a full reference: a plain tag
    }
  }
  const repository = basename(path).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'image';
  return `localhost/${repository}:${tag ?? 'latest'}`;
}
