// Connects the store's public entry to what the runtime calls (RuntimeImageStore).
import { checkoutImage, ImageStore, type StoredImage } from '../store/index.js';
import type { RuntimeImageStore } from './context.js';

/** The runtime's view of an ImageStore: getImage and checkoutImage (hardlinked, read-only union). */
export function runtimeStoreOf(store: ImageStore): RuntimeImageStore<StoredImage> {
  return {
    getImage: (nameOrId) => store.getImage(nameOrId),
    checkoutImage: (image, dest) => checkoutImage(store, image, dest),
  };
}
