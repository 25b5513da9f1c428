// update and update-all: pull the image a container runs (or the one it is rebased onto),
// then let the runtime redeploy it into the other slot, rolling back when it does not start.
import { DeploymentStore, RolledBackError, update, validateContainerName, validateServiceOptions, validateSetValues, type ContainerSpec, type DeploymentResult, type ServiceOptions } from '../runtime/index.js';
import { isLocalImageReference, pullImage } from '../store/index.js';
import { runtimeFor, sourceSettings, type AppContext, type OperationEvents } from './context.js';
import { installedContainers } from './installed.js';
import { oncePerImage } from './once-per-image.js';
import { privilegePolicyFor } from './install-image.js';

export interface UpdateInput {
  name: string;
  /** Move to another image; default: the image name the container runs. */
  rebase?: string;
  /** Added to (and overriding) the values kept from the running deployment. */
  set?: Readonly<Record<string, string>>;
  /** Pull first; default true. False: use what the store has. */
  pull?: boolean;
  /** Redeploy even when image and values are unchanged. */
  force?: boolean;
  /** Grant privileges the new image asks for that the running deployment was not granted. */
  privileged?: boolean;
  /** Replaces the container spec the running deployment has (runtime/container-spec.ts). */
  containerSpec?: ContainerSpec;
  /** Replaces the owner record (apply's). */
  owner?: Record<string, unknown>;
  /** Health check, restart policy, ordering, notify, auto-update given again: each field over the kept one. */
  service?: ServiceOptions;
  /** `service` replaces the kept options whole instead (apply's declarations). */
  replaceService?: boolean;
  /** How long a new deployment with a health check has to report healthy (default from its check, at most 5 min). */
  healthDeadlineMs?: number;
  /** Who grants what the new image's own /exports declare (install-image.ts); default 'consent'. */
  privileges?: 'declared' | 'consent';
  /** Refuse anything beyond the default confinement (also the site config's `[install] confined`). */
  confined?: boolean;
}

export type UpdateAllInput = Omit<UpdateInput, 'name' | 'rebase'>;

/**
 * What became of one container: updated (a new revision runs), unchanged (already up to
 * date), rolled back (the new deployment did not start or did not turn healthy, and the old
 * one runs again), failed (nothing changed: the pull or the deployment failed before the switch).
 */
export type UpdateOutcome = 'updated' | 'unchanged' | 'rolled back' | 'failed';

export type UpdateAllEntry =
  | { name: string; ok: true; outcome: 'updated' | 'unchanged'; result: DeploymentResult }
  | { name: string; ok: false; outcome: 'rolled back' | 'failed'; error: unknown };

export interface UpdateAllResult {
  entries: UpdateAllEntry[];
  succeeded: number;
  /** Rolled back or failed: a front end exits non-zero. */
  failed: number;
  /** How many of each outcome. */
  counts: Record<UpdateOutcome, number>;
}

export interface UpdateAllEvents extends OperationEvents {
  /** Each container's outcome as soon as it is known. */
  onResult?: (entry: UpdateAllEntry) => void;
}

function validate(input: UpdateAllInput): void {
  validateSetValues(input.set ?? {});
}

/** An update's error as an outcome: rolled back when the old deployment was put back. */
export function failedOutcome(error: unknown): 'rolled back' | 'failed' {
  return error instanceof RolledBackError ? 'rolled back' : 'failed';
}

/**
 * `runs`: the image id the container runs now; a new image that extends its layers or replaces
 * only its top one has its rootfs made from that image's (a hardlink copy and the new layers).
 */
async function pullAndUpdate(app: AppContext, input: UpdateInput, image: string | undefined, runs: string | undefined, events: OperationEvents): Promise<DeploymentResult> {
  let pulledName: string | undefined;
  if (image !== undefined && input.pull !== false) {
    pulledName = (await pullImage(app.store, image, sourceSettings(app), { ...(events.onPull ? { onEvent: events.onPull } : {}), rootfsBase: runs })).name;
  }
  // A docker-archive: or oci: rebase is known to the store by the name its import gave it; a
  // pulled one by the name the pull stored it under (no second look-up of the image).
  const rebaseName = input.rebase !== undefined && isLocalImageReference(input.rebase) ? (pulledName ?? input.rebase) : input.rebase;
  const rebase = rebaseName === undefined ? undefined : (pulledName ?? (await app.store.getImage(rebaseName))?.name ?? rebaseName);
  return update(await runtimeFor(app, events), {
    name: input.name,
    set: input.set ?? {},
    force: input.force === true,
    ...(rebase !== undefined ? { rebase } : {}),
    ...(input.privileged === true ? { allowPrivileges: true } : {}),
    ...(input.containerSpec !== undefined ? { containerSpec: input.containerSpec } : {}),
    ...(input.owner !== undefined ? { owner: input.owner } : {}),
    ...(input.service !== undefined ? { service: input.service } : {}),
    ...(input.replaceService === true ? { replaceService: true } : {}),
    ...(input.healthDeadlineMs !== undefined ? { healthDeadlineMs: input.healthDeadlineMs } : {}),
    privilegePolicy: privilegePolicyFor(app, input),
  });
}

/** Updates one container. One that is not installed fails with ENOTFOUND before any pull. */
export async function updateContainer(app: AppContext, input: UpdateInput, events: OperationEvents = {}): Promise<DeploymentResult> {
  validateContainerName(input.name);
  validate(input);
  validateServiceOptions(input.service, input.name);
  // Not installed: nothing to pull, and the runtime says so.
  const active = await new DeploymentStore(app.settings.root).active(input.name);
  return pullAndUpdate(app, input, active === undefined ? undefined : (input.rebase ?? active.info.image), active?.info.imageId, events);
}

/**
 * Updates every installed container, one after the other, going on past failures. Each image
 * is pulled once, however many containers run it, and the distinct images a few at once
 * before the first update; a container whose image did not pull fails with that pull's error.
 */
export async function updateAll(app: AppContext, input: UpdateAllInput, events: UpdateAllEvents = {}): Promise<UpdateAllResult> {
  validate(input);
  const installed = await installedContainers(app);
  // Each image's rootfs starts from the one a container of it runs now (see pullAndUpdate).
  const runs = new Map(installed.map(({ info }) => [info.image, info.imageId]));
  const pulls = input.pull === false ? undefined : await oncePerImage(installed.map(({ info }) => info.image), (image) => pullImage(app.store, image, sourceSettings(app), { ...(events.onPull ? { onEvent: events.onPull } : {}), rootfsBase: runs.get(image) }));
  const entries: UpdateAllEntry[] = [];
  for (const { name, info } of installed) {
    let entry: UpdateAllEntry;
    try {
      const pulled = pulls?.get(info.image);
      if (pulled !== undefined && !pulled.ok) throw pulled.error;
      const result = await pullAndUpdate(app, { ...input, name }, undefined, undefined, events);
      entry = { name, ok: true, outcome: result.changed ? 'updated' : 'unchanged', result };
    } catch (error) {
      entry = { name, ok: false, outcome: failedOutcome(error), error };
    }
    entries.push(entry);
    events.onResult?.(entry);
  }
  const failed = entries.filter((entry) => !entry.ok).length;
  const counts: Record<UpdateOutcome, number> = { updated: 0, unchanged: 0, 'rolled back': 0, failed: 0 };
  for (const entry of entries) counts[entry.outcome]++;
  return { entries, succeeded: entries.length - failed, failed, counts };
}
