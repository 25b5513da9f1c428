// `push SOURCE DEST` from what a user types to a finished push:
//   SOURCE  oci:DIR[:TAG] | oci-archive:FILE[:TAG]  (every platform of an index),
//           docker-archive:FILE[:NAME:TAG] | dockertar:/FILE (a `docker save` tar), or an
//           image of the store (name or id, as ImageStore.getImage finds it)
//   DEST    REGISTRY/REPO[:TAG] (a short name goes to the first unqualified-search registry
//           of registries.conf) or oci:DIR[:TAG]
// Both go through pushFromSource, so blobs are verified on the way, present blobs skipped,
// and the manifest written last. A store image is pushed with regenerated layer blobs (see
// store/sources/store-image-source.ts): its digests differ from those it was pulled with.
import type { ImageSource } from '../sources/image-source.js';
import { inContext, SyscontainerError } from '../../common/errors.js';
import { ImageStore } from '../image-store.js';
import { isOciLayoutSpec, OciLayoutSource, parseOciLayoutSpec } from '../sources/oci-layout-source.js';
import { defaultTag, formatReference, parseReference, qualifyReference } from '../oci/reference.js';
import { defaultRegistriesConf, loadRegistriesConf, type RegistriesConf } from '../registry/registries-conf.js';
import { RegistryPush } from '../registry/push.js';
import { StoreImageSource, type StoreSourceEvent } from '../sources/store-image-source.js';
import { DockerArchiveSource, isDockerArchiveSpec } from '../sources/docker-archive-source.js';
import { OciLayoutPush } from './oci-layout-push.js';
import { type PushEvent, pushFromSource } from './push-from-source.js';

export interface PushSettings {
  /** The store's root (for store images and the temporary layer files). */
  root: string;
  registriesConf?: string | undefined;
  authFile?: string | undefined;
}

export type PushImageEvent =
  | PushEvent
  | StoreSourceEvent
  | { type: 'pushing'; source: string; destination: string; regenerating: boolean };

export interface PushImageOptions {
  /** Repositories of the destination registry to mount blobs from, tried in order. */
  mountFrom?: readonly string[];
  onEvent?: (event: PushImageEvent) => void;
}

export interface PushImageResult {
  /** What was pushed (the store's full image name, or the oci: reference). */
  source: string;
  /** Where to, as a full reference (`REGISTRY/REPO:TAG`) or `oci:DIR[:TAG]`. */
  destination: string;
  /** Digest of the pushed manifest (or index). */
  digest: string;
  uploaded: number;
  mounted: number;
  present: number;
}

export type Destination =
  | { kind: 'registry'; registry: string; repository: string; tag: string; display: string }
  | { kind: 'layout'; dir: string; tag: string | undefined; display: string };

/**
 * Parses DEST; pure. Throws EREFERENCE (message naming DEST) when it is no place an image can
 * be pushed to. A short name goes to the first of `conf.unqualifiedSearchRegistries`.
 */
export function parseDestination(input: string, conf: Pick<RegistriesConf, 'unqualifiedSearchRegistries'>): Destination {
  if (isOciLayoutSpec(input)) {
    const spec = parseOciLayoutSpec(input);
    if (spec.transport !== 'oci') throw new SyscontainerError('EREFERENCE', `push destination ${input}: only oci:DIR[:TAG] layouts can be written`);
    return { kind: 'layout', dir: spec.path, tag: spec.tag, display: input };
  }
  const ref = parseReference(input);
  if (ref.digest !== undefined) {
    throw new SyscontainerError('EREFERENCE', `push destination ${input}: names a digest; push to a tag (the registry computes the digest)`);
  }
  const [qualified] = qualifyReference(ref, { unqualifiedSearchRegistries: conf.unqualifiedSearchRegistries.slice(0, 1), aliases: {} });
  const registry = qualified?.registry;
  if (qualified === undefined || registry === undefined) throw new SyscontainerError('EREFERENCE', `push destination ${input}: no registry to push to`);
  const tag = qualified.tag ?? defaultTag;
  return { kind: 'registry', registry, repository: qualified.repository, tag, display: formatReference({ ...qualified, tag }) };
}

/** Pushes SOURCE to DEST (see the top of this file). Temporary files are removed, also on failure. */
export async function pushImage(sourceInput: string, destInput: string, settings: PushSettings, options: PushImageOptions = {}): Promise<PushImageResult> {
  const conf = isOciLayoutSpec(destInput) ? defaultRegistriesConf() : await loadRegistriesConf(settings.registriesConf);
  const destination = parseDestination(destInput, conf);
  // A registry target is only configuration: made first, so a blocked registry fails early.
  let registryTarget: RegistryPush | undefined;
  if (destination.kind === 'registry') {
    registryTarget = new RegistryPush({ registry: destination.registry, conf, ...(settings.authFile !== undefined ? { authFile: settings.authFile } : {}) });
  }

  const emit = options.onEvent ?? (() => {});
  let source: ImageSource & { close(): Promise<void> };
  let sourceName: string;
  let reference = '';
  if (isOciLayoutSpec(sourceInput)) {
    source = await OciLayoutSource.open(sourceInput);
    sourceName = sourceInput;
    emit({ type: 'pushing', source: sourceName, destination: destination.display, regenerating: false });
  } else if (isDockerArchiveSpec(sourceInput)) {
    source = await DockerArchiveSource.open(sourceInput);
    sourceName = sourceInput;
    emit({ type: 'pushing', source: sourceName, destination: destination.display, regenerating: false });
  } else {
    const store = new ImageStore(settings.root, { registriesConf: settings.registriesConf });
    const image = await store.getImage(sourceInput);
    if (image === undefined) {
      throw new SyscontainerError('ENOTFOUND', `image ${sourceInput} is not in the store`, { hint: 'pull it first, or push oci:DIR' });
    }
    sourceName = image.name;
    emit({ type: 'pushing', source: sourceName, destination: destination.display, regenerating: true });
    const storeSource = await StoreImageSource.open(store, image, { onEvent: emit });
    source = storeSource;
    reference = storeSource.manifestDigest;
  }

  try {
    if (destination.kind === 'registry') {
      const result = await pushFromSource(registryTarget!, destination.repository, destination.tag, source, reference, {
        onEvent: emit,
        ...(options.mountFrom !== undefined ? { mountFrom: options.mountFrom } : {}),
      });
      return { source: sourceName, destination: destination.display, ...result };
    }
    // The layout is created only now that the source is known to be there.
    const layout = await OciLayoutPush.open(destination.dir);
    const result = await pushFromSource(layout, '', undefined, source, reference, { onEvent: emit });
    await layout.writeIndexEntry(result.digest, destination.tag);
    return { source: sourceName, destination: destination.display, ...result };
  } catch (error) {
    // Registry errors name `image REGISTRY/REPO…`; network errors only the host: add the image.
    const named = destination.kind === 'registry' ? `${destination.registry}/${destination.repository}` : destination.dir;
    if (error instanceof SyscontainerError && !error.message.includes(named)) inContext(error, `image ${destination.display}`);
    throw error;
  } finally {
    await source.close();
  }
}
