// auto-update: for each container installed with --auto-update, ask its registry for the image
// name's manifest digest (one manifest request per image name, however many containers run it;
// nothing else is fetched unless it changed). A changed one is pulled and updated with the
// health gate, which rolls it back by itself when the new deployment does not turn healthy;
// one container's failure does not stop the others.
import { installAutoUpdateTimer as installTimer, RolledBackError, update } from '../runtime/index.js';
import { pullImage, remoteManifestDigest } from '../store/index.js';
import { shortDigest } from '../common/digest.js';
import { runtimeFor, sourceSettings, type AppContext, type OperationEvents } from './context.js';
import { installedContainers } from './installed.js';
import { oncePerImage } from './once-per-image.js';

export type AutoUpdateOutcome = 'unchanged' | 'would update' | 'updated' | 'rolled back' | 'failed';

export interface AutoUpdateEntry {
  name: string;
  image: string;
  outcome: AutoUpdateOutcome;
  /** The digests (would update), the new revision (updated), or why (rolled back, failed). */
  detail: string;
}

export interface AutoUpdateResult {
  entries: AutoUpdateEntry[];
  /** Rolled back or failed: a front end exits non-zero. */
  failed: number;
}

export interface AutoUpdateInput {
  /** Only say what would be updated. */
  dryRun?: boolean;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function autoUpdate(app: AppContext, input: AutoUpdateInput = {}, events: OperationEvents = {}): Promise<AutoUpdateResult> {
  const entries: AutoUpdateEntry[] = [];
  const opted = (await installedContainers(app)).filter(({ info }) => info.service?.autoUpdate === true);
  // One manifest request per image, however many containers run it, a few images at once; a changed one pulled once.
  const remotes = await oncePerImage(opted.map(({ info }) => info.image), (image) => remoteManifestDigest(image, sourceSettings(app)));
  const pulls = new Map<string, Promise<unknown>>();
  for (const { name, info } of opted) {
    const image = info.image;
    const entry = (outcome: AutoUpdateOutcome, detail: string) => entries.push({ name, image, outcome, detail });
    try {
      const remote = remotes.get(image)!;
      if (!remote.ok) throw remote.error;
      if (remote.value.manifestDigest === info.manifestDigest) {
        entry('unchanged', '');
        continue;
      }
      if (input.dryRun === true) {
        entry('would update', `${shortDigest(info.manifestDigest)} → ${shortDigest(remote.value.manifestDigest)}`);
        continue;
      }
      let pull = pulls.get(image);
      if (pull === undefined) {
        pull = pullImage(app.store, image, sourceSettings(app), events.onPull ? { onEvent: events.onPull } : {});
        pulls.set(image, pull);
      }
      await pull;
      const result = await update(await runtimeFor(app, events), { name });
      if (result.changed) entry('updated', `revision ${result.info.revision}`);
      else entry('unchanged', '');
    } catch (error) {
      entry(error instanceof RolledBackError ? 'rolled back' : 'failed', messageOf(error));
    }
  }
  return { entries, failed: entries.filter((e) => e.outcome === 'rolled back' || e.outcome === 'failed').length };
}

/**
 * Writes syscontainer-auto-update.service and .timer (daily, randomized delay) into the unit
 * directory, checked by systemd-analyze verify, and enables and starts the timer where systemd
 * runs. Idempotent.
 */
export async function installAutoUpdateTimer(app: AppContext): Promise<{ enabled: boolean; files: string[] }> {
  return installTimer(app.runtime);
}
