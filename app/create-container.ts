// Creating a container for a caller of the REST service (docker's create): a system container
// like any other (a deployment with its unit, not started), with the caller's overrides and
// labels, the project among them; or, for `docker run --rm` (autoRemove), a one-off run that
// is gone when it ends. Decided here, not by the front end: what needs an admin, the project's
// quota (installed containers and one-off runs alike), and that a name is taken whichever
// project has it. The quota is checked and the container made in one queue per project, so
// concurrent creates cannot overshoot it. Whatever fails leaves nothing (install's rule).
import { SyscontainerError } from '../common/errors.js';
import { DeploymentStore, install, type ContainerSpec, type ServiceOptions } from '../runtime/index.js';
import type { AppContext } from './context.js';
import { tellContainerEvent } from './container-events.js';
import { containerId } from './container-views.js';
import type { OneOffRuns } from './one-off-runs.js';
import type { QuotaStore } from './quotas.js';
import { adminOnlyAsks, projectLabel, type Caller } from './tenancy.js';

/** What the REST service keeps across calls: its quotas and the one-off runs under way. */
export interface Tenancy {
  quotas: QuotaStore;
  oneOffs: OneOffRuns;
  /** Host directories (and what is below them) any project may bind-mount. */
  allowedBindSources?: readonly string[];
}

export interface CreateContainerInput {
  name: string;
  /** A stored image (name or id); ENOTFOUND when it is not stored (the client pulls, then creates again). */
  image: string;
  caller: Caller;
  labels: Readonly<Record<string, string>>;
  containerSpec: ContainerSpec;
  /** Restart policy and health check (docker's RestartPolicy and Healthcheck); validated by the runtime. */
  service: ServiceOptions;
  /** A one-off run, removed when it ends (docker's --rm). */
  autoRemove?: boolean;
  /** docker's OpenStdin: only a one-off run has a stdin to open (a system container's is its unit's). */
  openStdin?: boolean;
}

export interface CreatedContainer {
  id: string;
  name: string;
  image: string;
  kind: 'unit' | 'one-off';
}

const projectQueues = new Map<string, Promise<unknown>>();

/** Runs `body` after every earlier body of the same project (in this process). */
async function serialized<T>(project: string, body: () => Promise<T>): Promise<T> {
  const previous = projectQueues.get(project) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(body);
  projectQueues.set(project, next);
  try {
    return await next;
  } finally {
    if (projectQueues.get(project) === next) projectQueues.delete(project);
  }
}

export async function createContainer(app: AppContext, tenancy: Tenancy, input: CreateContainerInput): Promise<CreatedContainer> {
  if (input.openStdin === true && input.autoRemove !== true) {
    // Its unit's stdin is /dev/null and outlives any client (restarts, boots): nothing could feed it.
    throw new SyscontainerError(
      'EUSAGE',
      "OpenStdin: a system container's stdin is its systemd unit's (/dev/null); stdin reaches a one-off run (docker run --rm -i) and exec -i",
    );
  }
  const asks = await adminOnlyAsks(input.containerSpec, tenancy.allowedBindSources);
  if (asks.length > 0 && !input.caller.admin) throw new SyscontainerError('EDENIED', `${asks.join(', ')}: needs an admin token`);
  const image = await app.store.getImage(input.image);
  if (image === undefined) throw new SyscontainerError('ENOTFOUND', `No such image: ${input.image.slice(0, 256)}`);
  const project = input.caller.project;
  const labels: Record<string, string> = { ...input.labels };
  delete labels[projectLabel];
  if (project !== undefined) labels[projectLabel] = project;
  const make = async (): Promise<CreatedContainer> => {
    // Names and labels are the deployments' own: no need to ask runc what runs (a listing would).
    const views = (await new DeploymentStore(app.settings.root).activeDeployments())
      .filter(({ active }) => !active.info.noContainerService)
      .map(({ name, active }) => ({ name, labels: active.info.labels ?? {} }));
    if (views.some((v) => v.name === input.name) || tenancy.oneOffs.all().some((r) => r.name === input.name)) {
      throw new SyscontainerError('EEXIST', `Conflict. The container name "/${input.name}" is already in use`);
    }
    if (project !== undefined) {
      const quota = (await tenancy.quotas.get(project)).containers;
      const count = views.filter((v) => v.labels[projectLabel] === project).length + tenancy.oneOffs.all().filter((r) => r.labels[projectLabel] === project).length;
      if (quota !== undefined && count >= quota) {
        throw new SyscontainerError('EQUOTA', `quota exceeded: project ${project} may have ${quota} container(s) (quota containers=${quota}) and has ${count}`);
      }
    }
    if (input.autoRemove === true) {
      const run = await tenancy.oneOffs.create({ name: input.name, image: image.name, labels, containerSpec: input.containerSpec, openStdin: input.openStdin === true });
      return { id: run.id, name: run.name, image: run.image, kind: 'one-off' };
    }
    const installed = await install(app.runtime, {
      name: input.name,
      image: image.name,
      containerSpec: input.containerSpec,
      service: input.service,
      labels,
      start: false,
      // Started at boot only when its policy says so, as docker's daemon starts them.
      enable: input.service.restart === 'always' || input.service.restart === 'unless-stopped',
      allowPrivileges: input.caller.admin && asks.length > 0,
    });
    // The id as a listing gives it, without listing (and asking runc) again.
    return { id: containerId(input.name, installed.info.values.UUID), name: input.name, image: installed.info.image, kind: 'unit' };
  };
  // Without a project there is no quota to keep: no queue either.
  const created = project === undefined ? await make() : await serialized(project, make);
  await tellContainerEvent(app, { id: created.id, attributes: { name: created.name, image: created.image, ...(project !== undefined ? { [projectLabel]: project } : {}) } }, 'create');
  return created;
}
