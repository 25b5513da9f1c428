// Which container a path names, as the caller may see it: an installed container (a unit) or
// a one-off run of `docker run --rm`. Containers of other projects are 404, exactly like ones
// that do not exist, so a name of another project does not leak.
import { listContainerViews, maySee, projectLabel, type ContainerView, type OneOffRun } from '../app/index.js';
import { HttpError } from './http-error.js';
import type { RouteCall } from './server.js';

export type ContainerTarget = { kind: 'unit'; view: ContainerView } | { kind: 'one-off'; run: OneOffRun };

export function noSuchContainer(ref: string): HttpError {
  return new HttpError(404, `No such container: ${ref.slice(0, 128)}`);
}

export function targetProject(target: ContainerTarget): string | undefined {
  return target.kind === 'unit' ? target.view.labels[projectLabel] : target.run.labels[projectLabel];
}

export function targetId(target: ContainerTarget): string {
  return target.kind === 'unit' ? target.view.id : target.run.id;
}

export function targetName(target: ContainerTarget): string {
  return target.kind === 'unit' ? target.view.name : target.run.name;
}

/** Every container the caller may see; `askRunc: false`: their states unasked (listContainerViews). */
export async function visibleTargets(call: RouteCall, options: { askRunc?: boolean } = {}): Promise<ContainerTarget[]> {
  const units: ContainerTarget[] = (await listContainerViews(call.services.app, options)).map((view) => ({ kind: 'unit', view }));
  const runs: ContainerTarget[] = call.services.tenancy.oneOffs.all().map((run) => ({ kind: 'one-off', run }));
  return [...units, ...runs].filter((t) => maySee(call.principal, targetProject(t)));
}

export async function resolveTarget(call: RouteCall, ref: string, options: { askRunc?: boolean } = {}): Promise<ContainerTarget> {
  const targets = await visibleTargets(call, options);
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  const byName = targets.find((t) => targetName(t) === name);
  if (byName !== undefined) return byName;
  if (/^[0-9a-f]{1,64}$/.test(ref)) {
    const matches = targets.filter((t) => targetId(t).startsWith(ref));
    if (matches.length === 1) return matches[0] as ContainerTarget;
  }
  throw noSuchContainer(ref);
}
