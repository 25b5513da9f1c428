// Pushes any ImageSource (an OCI layout, the store) or a prepared plan to a registry
// through the push primitives of store/registry/push.ts. Order matters to a registry: every
// blob before the manifest that names it, child manifests before their index, so a tag
// never points at something missing. Blobs the repository has are skipped; blobs another
// repository of the same registry has are mounted instead of uploaded.
import { PassThrough, type Readable } from 'node:stream';
import { mapBounded } from '../../common/bounded-map.js';
import { SyscontainerError } from '../../common/errors.js';
import type { ImageSource } from '../sources/image-source.js';
import { OciLayoutSource } from '../sources/oci-layout-source.js';
import {
  type Descriptor,
  indexMediaTypes,
  indexSchema,
  limits,
  manifestMediaTypes,
  manifestSchema,
  parseJson,
} from '../oci/oci-types.js';
import type { BlobData, RegistryPush } from '../registry/push.js';

/** The part of RegistryPush used here (tests may pass a stand-in). */
export type PushPrimitives = Pick<RegistryPush, 'blobExists' | 'mountBlob' | 'uploadBlob' | 'putManifest'>;

export type PushEvent =
  | { type: 'blob-present'; digest: string; size: number }
  | { type: 'blob-mounted'; digest: string; size: number; from: string }
  | { type: 'blob-uploaded'; digest: string; size: number }
  | { type: 'manifest-pushed'; digest: string; reference: string };

export interface PushOptions {
  /** Other repositories of the same registry to mount blobs from, tried in order. */
  mountFrom?: readonly string[];
  /** Blobs sent at once. Default 3. */
  concurrency?: number;
  onEvent?: (event: PushEvent) => void;
}

export interface PushResult {
  /** Digest of the top-level manifest or index (what `repository@digest` names). */
  digest: string;
  uploaded: number;
  mounted: number;
  present: number;
}

/** What goes to the registry: blobs (any order among themselves), then manifests in order. */
export interface PushPlan {
  blobs: { descriptor: Descriptor; data: BlobData }[];
  /** Children first; the last one is the top level, which gets the tag. */
  manifests: { digest: string; bytes: Buffer; mediaType: string }[];
}

/**
 * A factory for the verified stream of a blob: each call opens it again, so an upload can be
 * retried. Errors of opening come out of the stream.
 */
function blobFactory(source: ImageSource, descriptor: Descriptor): () => Readable {
  return () => {
    const out = new PassThrough();
    source.openBlob(descriptor).then(
      (stream) => {
        stream.on('error', (error) => out.destroy(error));
        out.on('close', () => stream.destroy());
        stream.pipe(out);
      },
      (error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return out;
  };
}

async function planFromSource(source: ImageSource, reference: string): Promise<PushPlan> {
  const top = await source.fetchManifest(reference);
  const manifests: PushPlan['manifests'] = [];
  const blobs = new Map<string, Descriptor>();
  const addImage = (bytes: Buffer, what: string): void => {
    const manifest = parseJson(manifestSchema, bytes, what);
    for (const descriptor of [manifest.config, ...manifest.layers]) blobs.set(descriptor.digest, descriptor);
  };
  if (indexMediaTypes.includes(top.mediaType)) {
    const index = parseJson(indexSchema, top.bytes, `${source.description}: index ${top.digest}`);
    for (const child of index.manifests) {
      if (!manifestMediaTypes.includes(child.mediaType)) {
        throw new SyscontainerError('EMANIFEST', `${source.description}: index entry ${child.digest} has unsupported media type ${child.mediaType}`);
      }
      if (child.size > limits.manifestBytes) {
        throw new SyscontainerError('ELIMIT', `${source.description}: manifest ${child.digest} is larger than ${limits.manifestBytes} bytes`);
      }
      const fetched = await source.fetchManifest(child.digest);
      addImage(fetched.bytes, `${source.description}: manifest ${child.digest}`);
      manifests.push({ digest: fetched.digest, bytes: fetched.bytes, mediaType: child.mediaType });
    }
  } else if (manifestMediaTypes.includes(top.mediaType)) {
    addImage(top.bytes, `${source.description}: manifest ${top.digest}`);
  } else {
    throw new SyscontainerError('EMANIFEST', `${source.description}: unsupported media type ${top.mediaType}`);
  }
  manifests.push({ digest: top.digest, bytes: top.bytes, mediaType: top.mediaType });
  return {
    blobs: [...blobs.values()].map((descriptor) => ({ descriptor, data: blobFactory(source, descriptor) })),
    manifests,
  };
}

export async function runPlan(registry: PushPrimitives, repository: string, tag: string | undefined, plan: PushPlan, options: PushOptions): Promise<PushResult> {
  const emit = options.onEvent ?? (() => {});
  const counts = { uploaded: 0, mounted: 0, present: 0 };
  // No new blob after the first failure, and no upload keeps running after push() has failed.
  await mapBounded(plan.blobs, options.concurrency ?? 3, async (blob) => {
    const { digest, size } = blob.descriptor;
    if (await registry.blobExists(repository, digest)) {
      counts.present++;
      emit({ type: 'blob-present', digest, size });
      return;
    }
    for (const from of options.mountFrom ?? []) {
      if (from !== repository && (await registry.mountBlob(repository, digest, from))) {
        counts.mounted++;
        emit({ type: 'blob-mounted', digest, size, from });
        return;
      }
    }
    await registry.uploadBlob(repository, blob.descriptor, blob.data);
    counts.uploaded++;
    emit({ type: 'blob-uploaded', digest, size });
  });

  const last = plan.manifests.length - 1;
  let digest = '';
  for (const [i, manifest] of plan.manifests.entries()) {
    const reference = i === last && tag !== undefined ? tag : manifest.digest;
    digest = await registry.putManifest(repository, reference, manifest.bytes, manifest.mediaType);
    emit({ type: 'manifest-pushed', digest, reference });
  }
  return { digest, ...counts };
}

/**
 * Pushes the image `reference` (tag or digest) of any source, e.g. an OciLayoutSource, with
 * every platform of an index. Blobs are streamed from the source, verified on the way.
 */
export async function pushFromSource(
  registry: PushPrimitives,
  repository: string,
  tag: string | undefined,
  source: ImageSource,
  reference: string,
  options: PushOptions = {},
): Promise<PushResult> {
  return runPlan(registry, repository, tag, await planFromSource(source, reference), options);
}

/**
 * Pushes the image of an `oci:DIR[:TAG]` or `oci-archive:FILE[:TAG]` reference (its only
 * image when it names no tag). The archive's temporary extraction is removed afterwards.
 */
export async function pushOciLayout(
  registry: PushPrimitives,
  repository: string,
  tag: string | undefined,
  layoutReference: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const source = await OciLayoutSource.open(layoutReference);
  try {
    return await pushFromSource(registry, repository, tag, source, '', options);
  } finally {
    await source.close();
  }
}
