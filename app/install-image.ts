// install-image: what `install --name NAME IMAGE` means, whoever asks. Everything the caller
// gave is checked before anything else happens (no pull for a name that will be refused);
// then the image is pulled when it is not stored, Atomic's labels decide what to do with it
// (atomic.type=system makes --system optional, atomic.run=once runs it once instead of
// installing a service), and the runtime installs it.
//
// Privileges (runtime/privileges.ts): what an image's own /exports templates declare is Atomic's
// reviewable contract with the host; an operator at the host's CLI gets it granted and printed
// (`privileges: 'declared'`), other callers only what they consent to (`'consent'`, the
// default). `confined`, or `[install] confined = true` in the site's syscontainer.conf,
// refuses anything beyond the default confinement whoever asks.
import {
  install,
  isSystemImage,
  runImageOnce,
  runsOnce,
  validateContainerName,
  validateSetValues,
  type ContainerSpec,
  type DeploymentResult,
  type PrivilegePolicy,
  type RunResult,
  requireDependencies,
  validateServiceOptions,
  type ServiceOptions,
} from '../runtime/index.js';
import { SyscontainerError } from '../common/errors.js';
import { isLocalImageReference, pullImage } from '../store/index.js';
import { readConfigFile } from './config-file.js';
import { eventSubject, tellContainerEvent } from './container-events.js';
import { runtimeFor, sourceSettings, type AppContext, type OperationEvents } from './context.js';

export interface InstallImageInput {
  /**
   * The container's name: 1–64 of [A-Za-z0-9_.-], not starting with "." or "-". Default, as
   * Atomic's: the image's name without registry, path and tag (`quay.io/a/etcd:3` → `etcd`).
   */
  name?: string;
  /** Image name (short names resolved through registries.conf), id, oci:DIR or oci-archive:FILE. */
  image: string;
  /** Install even when the image is not labelled atomic.type=system (`--system`). */
  system?: boolean;
  /** Template variables (`--set KEY=VALUE`), kept and reused by update. */
  set?: Readonly<Record<string, string>>;
  /** Use this exploded rootfs, read-only and in place; IMAGE then only names it when not stored. */
  rootfs?: string;
  /** Replace an installed container of that name (its state directory is kept). */
  force?: boolean;
  /** Grant the privileges the image asks for beyond the default confinement. */
  privileged?: boolean;
  /** Who grants what the image's own /exports declare beyond the default: see the file comment. Default 'consent'. */
  privileges?: 'declared' | 'consent';
  /** Refuse anything beyond the default confinement, naming it (also the site config's `[install] confined`). */
  confined?: boolean;
  /** Enable and start it; default true. */
  start?: boolean;
  /** Pull the image when it is not stored; default true. */
  pull?: boolean;
  /** What to set over the image's config (command, env, mounts, capabilities, …): runtime/container-spec.ts. */
  containerSpec?: ContainerSpec;
  /** Who declared it (apply's owner record), kept in the deployment. */
  owner?: Record<string, unknown>;
  /** Health check, restart policy, ordering, notify, auto-update; kept and reused by update. */
  service?: ServiceOptions;
}

export type InstallImageResult =
  /** Installed as a service: its deployment record and the privileges granted. */
  | { mode: 'installed'; deployment: DeploymentResult }
  /** The image is labelled atomic.run=once: it ran once, in the foreground; nothing is installed. */
  | { mode: 'ran-once'; image: string; run: RunResult };

/** Atomic's default container name for `image`: its repository's last component, without tag or digest. */
export function defaultContainerName(image: string): string {
  const name = image.replace(/@.*$/, '').split('/').pop()!.replace(/:.*$/, '');
  validateContainerName(name);
  return name;
}

/** The privilege policy of an install or update: see the file comment. */
export function privilegePolicyFor(app: AppContext, input: { privileges?: 'declared' | 'consent'; confined?: boolean }): PrivilegePolicy {
  if (input.confined === true || readConfigFile(app.settings.configFile).confined) return 'confined';
  return input.privileges ?? 'consent';
}

export async function installImage(app: AppContext, input: InstallImageInput, events: OperationEvents = {}): Promise<InstallImageResult> {
  if (input.name !== undefined) validateContainerName(input.name);
  const set = { ...(input.set ?? {}) };
  validateSetValues(set);
  // Checked again by the runtime; here so that a refused option costs no pull (without --name: once the name is known).
  if (input.name !== undefined) await requireDependencies(app.settings.root, input.name, validateServiceOptions(input.service, input.name));
  const privilegePolicy = privilegePolicyFor(app, input);
  // A file or directory (docker-archive:, oci:, …) is imported first: the store knows it by the name the import gives it.
  const local = isLocalImageReference(input.image);
  // With a rootfs the image may be known only by name: nothing to pull.
  let stored = local ? undefined : await app.store.getImage(input.image);
  if (stored === undefined && (input.rootfs === undefined || local) && input.pull !== false) {
    if (!local) events.log?.(`${input.image} is not in the store: pulling it`);
    const pulled = await pullImage(app.store, input.image, sourceSettings(app), events.onPull ? { onEvent: events.onPull } : {});
    // By the name the pull stored it under: `oci:DIR:TAG` is stored as localhost/DIR:TAG, a docker-archive by its RepoTags.
    stored = await app.store.getImage(pulled.name);
  }
  const name = input.name ?? defaultContainerName(stored?.name ?? input.image);
  if (input.system !== true && (stored === undefined || !isSystemImage(stored))) {
    throw new SyscontainerError('EUSAGE', `image ${stored?.name ?? input.image} is not labelled atomic.type=system: install it with --system`);
  }
  const ctx = await runtimeFor(app, events);
  if (stored !== undefined && input.rootfs === undefined && runsOnce(stored)) {
    events.log?.(`${stored.name} is labelled atomic.run=once: running it once instead of installing a service`);
    const run = await runImageOnce(ctx, stored, { name, set, allowPrivileges: input.privileged === true, privilegePolicy });
    return { mode: 'ran-once', image: stored.name, run };
  }
  const deployment = await install(ctx, {
    name,
    image: stored?.name ?? input.image,
    set,
    force: input.force === true,
    allowPrivileges: input.privileged === true,
    privilegePolicy,
    start: input.start !== false,
    ...(input.service !== undefined ? { service: input.service } : {}),
    ...(input.rootfs !== undefined ? { rootfs: input.rootfs } : {}),
    ...(input.containerSpec !== undefined ? { containerSpec: input.containerSpec } : {}),
    ...(input.owner !== undefined ? { owner: input.owner } : {}),
  });
  const subject = await eventSubject(app, name);
  await tellContainerEvent(app, subject, 'create');
  if (input.start !== false) await tellContainerEvent(app, subject, 'start');
  return { mode: 'installed', deployment };
}
