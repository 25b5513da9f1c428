// pull and push: images between registries (or OCI layouts) and the store.
import { parsePlatform, pullImage, pushImage, type PullEvent, type PullResult, type PushImageEvent, type PushImageResult } from '../store/index.js';
import { sourceSettings, type AppContext } from './context.js';

export interface PullInput {
  /** [registry[:port]/]repo[:tag][@digest] (short names through registries.conf), oci:DIR[:TAG] or oci-archive:FILE[:TAG]. */
  image: string;
  /** OS/ARCH[/VARIANT] to pick from an index; default the host's. */
  platform?: string;
}

/** Fetches, verifies and stores the image; layers already stored are not fetched again. */
export function pull(app: AppContext, input: PullInput, events: { onPull?: (event: PullEvent) => void } = {}): Promise<PullResult> {
  // Parsed before anything is fetched: a bad platform fails at once.
  const platform = input.platform !== undefined ? parsePlatform(input.platform) : undefined;
  return pullImage(app.store, input.image, sourceSettings(app), { platform, ...(events.onPull ? { onEvent: events.onPull } : {}) });
}

export interface PushInput {
  /** A stored image (name or id), oci:DIR[:TAG] or oci-archive:FILE[:TAG]. */
  source: string;
  /** REGISTRY/REPO[:TAG] or oci:DIR[:TAG]. */
  destination: string;
  /** Repositories of the destination registry to mount blobs from, tried in order. */
  mountFrom?: readonly string[];
}

/** What a push did: store's own result, as it is. */
export type PushResult = PushImageResult;

/** Uploads the image; blobs the destination has are skipped, the manifest goes last. */
export function push(app: AppContext, input: PushInput, events: { onPush?: (event: PushImageEvent) => void } = {}): Promise<PushResult> {
  return pushImage(
    input.source,
    input.destination,
    { root: app.settings.root, ...sourceSettings(app) },
    { mountFrom: input.mountFrom ?? [], ...(events.onPush ? { onEvent: events.onPush } : {}) },
  );
}
