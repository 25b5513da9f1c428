// Pushes an image built by images/build/image.ts (or an index of them) through the store's
// push path: the built blobs are in memory, so the plan hands them over as buffers.
import { runPlan, type PushOptions, type PushPlan, type PushPrimitives, type PushResult } from '../../store/push/push-from-source.js';
import { type BuiltImage, type BuiltIndex, contentBlobs, manifestBlobs } from './image.js';

export { pushFromSource, pushOciLayout, type PushEvent, type PushOptions, type PushPrimitives, type PushResult } from '../../store/push/push-from-source.js';

function planFromBuilt(built: BuiltImage | BuiltIndex): PushPlan {
  return {
    blobs: contentBlobs(built).map((blob) => ({ descriptor: blob.descriptor, data: blob.bytes })),
    manifests: manifestBlobs(built).map((m) => ({ digest: m.descriptor.digest, bytes: m.bytes, mediaType: m.descriptor.mediaType })),
  };
}

/**
 * Pushes a built image or index to `repository` (tagged `tag`, or by digest only when no
 * tag). Idempotent: pushing again uploads nothing. Blobs go first, manifests last.
 */
export async function pushBuiltImage(
  registry: PushPrimitives,
  repository: string,
  tag: string | undefined,
  built: BuiltImage | BuiltIndex,
  options: PushOptions = {},
): Promise<PushResult> {
  return runPlan(registry, repository, tag, planFromBuilt(built), options);
}
