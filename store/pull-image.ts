// From what a user types to a source and the name the image is stored under:
// `gscrivano/spc-etcd` (short name, resolved through registries.conf), a full reference,
// `oci:DIR[:TAG]` or `oci-archive:FILE[:TAG]`.
import { basename } from 'node:path';
import { inContext } from './errors.js';
import type { ImageStore } from './image-store.js';
import { isOciLayoutSpec, OciLayoutSource, parseOciLayoutSpec } from './oci-layout-source.js';
import { pullFromSource, type PullOptions, type PullResult } from './pull.js';
import { formatReference, manifestReferenceOf, parseReference, qualifyReference } from './reference.js';
import { loadRegistriesConf } from './registries-conf.js';
import { openFirstAvailable } from './registry/registry-source.js';

export interface SourceSettings {
  /** registries.conf to read (default /etc/containers/registries.conf; missing = defaults). */
  registriesConf?: string | undefined;
  /** auth.json to read credentials from (default: the containers/docker search path). */
  authFile?: string | undefined;
}

/** Pulls `input` into `store`. See pullFromSource for what is guaranteed. */
export async function pullImage(
  store: ImageStore,
  input: string,
  settings: SourceSettings = {},
  options: PullOptions = {},
): Promise<PullResult> {
  if (isOciLayoutSpec(input)) return pullFromLayout(store, input, options);
  const conf = await loadRegistriesConf(settings.registriesConf);
  const candidates = qualifyReference(parseReference(input), conf);
  const source = await openFirstAvailable(candidates, {
    conf,
    ...(settings.authFile !== undefined ? { authFile: settings.authFile } : {}),
  }).catch((error: unknown) => {
    throw inContext(error, `image ${candidates.length === 1 ? formatReference(candidates[0]!) : input}`);
  });
  return pullFromSource(store, source, manifestReferenceOf(source.reference), formatReference(source.reference), options);
}

async function pullFromLayout(store: ImageStore, input: string, options: PullOptions): Promise<PullResult> {
  const spec = parseOciLayoutSpec(input);
  const source = await OciLayoutSource.open(spec);
  try {
    return await pullFromSource(store, source, spec.tag ?? '', layoutImageName(spec.path, spec.tag), options);
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
