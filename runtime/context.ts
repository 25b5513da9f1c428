// What the lifecycle functions need from outside: where things live, which runtime, the image
// store (through its public entry) and the systemd wrapper. The CLI builds one per command.
import type { ImageConfig, ImageManifest } from '../store/index.js';
import type { Runc } from './runc.js';
import type { Systemd } from './systemd.js';

/** The view of a stored image the runtime uses; the store's StoredImage has at least this. */
export interface RuntimeImage {
  /** REGISTRY/REPO:TAG */
  name: string;
  manifestDigest: string;
  configDigest: string;
  config: ImageConfig;
  manifest?: ImageManifest;
}

/** The part of the image store the runtime calls. */
export interface RuntimeImageStore<I extends RuntimeImage = RuntimeImage> {
  /** The image by name (REGISTRY/REPO:TAG, normalised by the store), id or ref; undefined if not stored. */
  getImage(nameOrIdOrRef: string): Promise<I | undefined>;
  /**
   * Runs `body` with the directory of the image's shared, read-only rootfs (union of layers
   * with whiteouts, files hardlinked into the store), made first when missing. The rootfs is
   * not removed while `body` runs: link it there.
   */
  withRootfs<T>(image: I, body: (dir: string) => Promise<T>): Promise<T>;
  /** Removes image id `configDigest`'s rootfs when no stored image has that id and `inUse(dir)` is false. */
  releaseRootfs(configDigest: string, inUse: (dir: string) => Promise<boolean>): Promise<void>;
}

export interface RuntimeContext<I extends RuntimeImage = RuntimeImage> {
  /** Deployments root: /var/lib/containers/atomic for the system. */
  root: string;
  /** Where units go: /etc/systemd/system. */
  unitDir: string;
  /** Where tmpfiles.d files go: /etc/tmpfiles.d. */
  tmpfilesDir: string;
  /**
   * Where an image's /exports/hostfs files land: HOSTROOT/PATH. Default '/'; tests point it at
   * a temporary directory so nothing is written into the real /usr/local/bin or /etc.
   */
  hostRoot?: string;
  /** The OCI runtime binary (absolute path): it is written into units. */
  runtimePath: string;
  store: RuntimeImageStore<I>;
  systemd: Systemd;
  /** The runc wrapper; default one for runtimePath, through the same nsenter prefix as systemd. */
  runc?: Runc;
  /** How long a started container must stay up to count as started (ms); default 2000. */
  settleMs?: number;
  /** Progress lines for the user (the CLI prints them); default: none. */
  log?: (line: string) => void;
}
