// Public entry of the store for runtime/ and the application layer. Only what is exported
// here may be used from outside store/. Generic primitives (errors, locks, atomic files,
// pathExists, removeTree) live in common/ and are imported from there, never through here.
export type { ImageManifest, ImageConfig, Descriptor, Compression } from './oci/oci-types.js';
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
export { checkoutImage, isCheckoutTemp } from './content/checkout.js';
export { withImageRootfs, releaseImageRootfs, imageRootfsDir, type RootfsInUse } from './content/image-rootfs.js';
export { OstreeRepo, type RepoMode, type CheckoutOptions } from './ostree/ostree-repo.js';
export { imageRef, blobRef, encodeImageName, decodeImageName, imageNameFromRef } from './ref-names.js';
export {
  layerMetadataKeys,
  defaultMaxUncompressedBytes,
  type ImportedLayer,
  type StoredLayer,
  type LayerProgress,
  type LayerImportOptions,
} from './content/layer-import.js';
export type { DroppedEntry } from './content/tar-filter.js';
export { pullImage, isLocalImageReference, type SourceSettings } from './pull/pull-image.js';
export { remoteManifestDigest, type RemoteDigest } from './pull/remote-digest.js';
export { pullFromSource, type PullEvent, type PullOptions, type PullResult } from './pull/pull-from-source.js';
export { parsePlatform, hostPlatform, formatPlatform } from './oci/platform.js';
export { login, logout } from './registry/login.js';
export { loadRegistriesConf } from './registry/registries-conf.js';
export { readImageFiles } from './image-files.js';
export { pushImage, type PushImageEvent, type PushImageResult } from './push/push-image.js';
export { storeLockDir, imageLockDir } from './store-locks.js';
export type { RetryOptions } from './registry/retry.js';

export { trustSettings, type TrustSettings } from './trust/trust-settings.js';
export type { TrustRecord } from './trust/trust-record.js';
export { describeTrust, type PolicySummary, type ScopeSummary } from './trust/policy-summary.js';
export { setTrust, trustTypes, type TrustType } from './trust/policy-edit.js';
export { recheckTrust, type TrustRecheck } from './trust/verify-stored.js';
