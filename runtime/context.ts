// What the runtime's operations need from outside: where things live, which runtime, the image
// store (through its public entry), the systemd wrapper and who supervises containers. The
// front end's context builder fills it once per command, from its settings and the
// environment: nothing under runtime/ reads the environment.
import type { ImageConfig, ImageManifest } from '../store/index.js';
import { Runc } from './runc.js';
import type { Supervisor } from './supervisor/supervisor.js';
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
  /** The runc wrapper; default one for runtimePath, through commandPrefix. */
  runc?: Runc;
  /**
   * The prefix for commands that talk to the host's systemd and runc (nsenter into the test
   * harness's namespaces: command-prefix.ts); default none. The builder gives the same one to `systemd`.
   */
  commandPrefix?: readonly string[];
  /**
   * Who runs the containers (supervisor/supervisor.ts). Default: chosen once for this context
   * on first use: systemd when its manager answers, else runc-direct (supervisor/choose.ts).
   */
  supervisor?: Supervisor;
  /** How long a started container must stay up to count as started (ms); default 2000. */
  settleMs?: number;
  /** How long a container's lock waits for another command before ELOCKED (ms); default 5 min. */
  lockWaitMs?: number | undefined;
  /**
   * The command line that runs this CLI (`node /path/syscontainer.mjs`), written into units
   * that call it back (the health check); default the running process's.
   */
  cli?: readonly string[];
  /** The light entry the health-check unit runs (`node /path/syscontainer-healthcheck.mjs`); default `cli`. */
  healthCli?: readonly string[];
  /** Progress lines for the user (the CLI prints them); default: none. */
  log?: (line: string) => void;
  /** Warnings for the user (the CLI prints them as `warning: …`); default: none. */
  warn?: (line: string) => void;
}

/** The context's runc wrapper (ctx.runc, or one for runtimePath through commandPrefix). */
export function runcOf(ctx: RuntimeContext): Runc {
  return ctx.runc ?? new Runc({ runtimePath: ctx.runtimePath, prefix: ctx.commandPrefix ?? [] });
}

/** A progress line for the user (the front end prints them). */
export function say(ctx: RuntimeContext, line: string): void {
  ctx.log?.(line);
}

/** A warning for the user: through ctx.warn, else as a `warning: …` progress line. */
export function warn(ctx: RuntimeContext, line: string): void {
  if (ctx.warn !== undefined) ctx.warn(line);
  else ctx.log?.(`warning: ${line}`);
}
