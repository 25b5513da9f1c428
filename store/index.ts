// Public entry of the store for runtime/ and cli/. Only what is exported here may be used
// from outside store/ (pull orchestration exports are added by store/pull.ts's owner).
export { SyscontainerError, IntegrityError, RegistryError, isSyscontainerError, type ErrorCode } from './errors.js';
export type { ImageManifest, ImageConfig, Descriptor, Compression } from './oci-types.js';
export {
  ImageStore,
  imageMetadataKeys,
  type StoredImage,
  type StoredImageLayer,
  type VerifyReport,
  type PruneReport,
  type PruneOptions,
  type ImageStoreOptions,
} from './image-store.js';
export { checkoutImage, removeTree, isCheckoutTemp } from './checkout.js';
export { withImageRootfs, releaseImageRootfs, imageRootfsDir, type RootfsInUse } from './image-rootfs.js';
export { OstreeRepo, type RepoMode, type CheckoutOptions } from './ostree.js';
export { imageRef, blobRef, encodeImageName, decodeImageName, imageNameFromRef } from './ref-names.js';
export {
  layerMetadataKeys,
  defaultMaxUncompressedBytes,
  type ImportedLayer,
  type StoredLayer,
  type LayerProgress,
  type LayerImportOptions,
} from './layer-import.js';
export type { DroppedEntry } from './tar-filter.js';
export { pullImage, type SourceSettings } from './pull-image.js';
export { pullFromSource, type PullEvent, type PullOptions, type PullResult } from './pull.js';
export { parsePlatform, hostPlatform, formatPlatform } from './platform.js';
export { login, logout } from './registry/login.js';
export { loadRegistriesConf } from './registries-conf.js';
export { readImageFiles } from './image-files.js';
export { withLock, acquireLock, storeLockDir, imageLockDir, containerLockDir, type LockMode, type LockOptions, type HeldLock } from './lock.js';
export { pushImage, type PushImageEvent } from './push-reference.js';
export { writeFileAtomic, temporarySibling } from './atomic-file.js';
export { pathExists } from './path-exists.js';
