// Connects the store's public entry to what the runtime calls (RuntimeImageStore).
import { checkoutImage, ImageStore, storeLockDir, withLock, type StoredImage } from '../store/index.js';
import type { RuntimeImageStore } from './context.js';

/** The runtime's view of an ImageStore: getImage and checkoutImage (hardlinked, read-only union). */
export function runtimeStoreOf(store: ImageStore): RuntimeImageStore<StoredImage> {
  return {
    getImage: (nameOrId) => store.getImage(nameOrId),
    // Shared store lock: prune must not remove objects while they are being hardlinked out.
    checkoutImage: (image, dest) => withLock(storeLockDir(store.root), { mode: 'shared', what: 'image store' }, () => checkoutImage(store, image, dest)),
  };
}
