// The context every operation runs in: the settings (read once, by settings.ts), the image
// store, and the runtime's context built from them. A front end builds one per process (the
// CLI per command, a service at start) and hands it to each operation with that call's
// callbacks; operations never print.
import { nsenterPrefix, runtimeStoreOf, supervisorOf, Systemd, type RuntimeContext } from '../runtime/index.js';
import { ImageStore, type PullEvent, type SourceSettings, type StoredImage } from '../store/index.js';
import { selfCommands } from './self-command.js';
import type { Settings } from './settings.js';

export interface AppContext {
  readonly settings: Settings;
  readonly store: ImageStore;
  /** The runtime's context, without a log (operations add the caller's: see runtimeFor). */
  readonly runtime: RuntimeContext<StoredImage>;
}

/** The callbacks of one operation call. All optional; none may throw. */
export interface OperationEvents {
  /** Lines for the user as the operation goes ("Extracting … to …", "waiting for …"). */
  log?: (line: string) => void;
  /** Warnings for the user (a unit line systemd ignores, …); without it they go to log as `warning: …`. */
  warn?: (line: string) => void;
  /** Progress of a pull the operation makes (per layer: bytes, stored). */
  onPull?: (event: PullEvent) => void;
}

export function createContext(settings: Settings): AppContext {
  const store = new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs, registriesConf: settings.registriesConf });
  // The test harness's systemd runs in namespaces of its own: talk to it (and its runc) through nsenter.
  const commandPrefix = nsenterPrefix(settings.systemdNsenterPid);
  return {
    settings,
    store,
    runtime: {
      root: settings.root,
      unitDir: settings.unitDir,
      tmpfilesDir: settings.tmpfilesDir,
      hostRoot: settings.hostRoot,
      runtimePath: settings.runtimePath,
      store: runtimeStoreOf(store),
      systemd: new Systemd({ prefix: commandPrefix }),
      commandPrefix,
      lockWaitMs: settings.lockWaitMs,
      // Units that call syscontainer back (the health check) run this same CLI, by absolute path.
      ...selfCommands(),
      ...(settings.settleMs !== undefined ? { settleMs: settings.settleMs } : {}),
    },
  };
}

/**
 * The runtime's context for one call: the shared one with the caller's log, and the shared
 * one's supervisor (chosen once per application context, not once per call).
 */
export async function runtimeFor(app: AppContext, events: OperationEvents = {}): Promise<RuntimeContext<StoredImage>> {
  if (events.log === undefined && events.warn === undefined) return app.runtime;
  return { ...app.runtime, supervisor: await supervisorOf(app.runtime), log: events.log, warn: events.warn };
}

/** Registry settings for pull, push and login. */
export function sourceSettings(app: AppContext): SourceSettings {
  const { registriesConf, authFile, trust, retry, maxUncompressedBytes } = app.settings;
  return { registriesConf, authFile, trust, retry, maxUncompressedBytes };
}
