// Connects the store's public entry to what the runtime calls (RuntimeImageStore).
import { ImageStore, releaseImageRootfs, withImageRootfs, type StoredImage } from '../store/index.js';
import type { RuntimeImageStore } from './context.js';

/** The runtime's view of an ImageStore: images and their shared rootfs. */
export function runtimeStoreOf(store: ImageStore): RuntimeImageStore<StoredImage> {
  return {
    getImage: (nameOrId) => store.getImage(nameOrId),
    withRootfs: (image, body) => withImageRootfs(store, image, body),
    releaseRootfs: async (configDigest, inUse) => void (await releaseImageRootfs(store, configDigest, inUse)),
  };
}
