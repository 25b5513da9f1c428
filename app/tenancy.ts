// Who may see and do what in the REST service's projects (OpenStack's containers-service
// model): every container and exec belongs to the project that made it (a label); a caller
// sees its own project's only, an admin every project's (and the CLI's containers, which have
// none); what a container may ask for beyond the default confinement needs an admin.
import { SyscontainerError } from '../common/errors.js';
import type { ContainerSpec } from '../runtime/index.js';

/** The label that says which project a container belongs to. */
export const projectLabel = 'io.syscontainer.project';

/** Who asks: already authenticated by the front end. */
export interface Caller {
  /** The project a new container or exec belongs to; undefined: none (the unix socket without a project header). */
  project: string | undefined;
  /** Sees and acts on every project's containers, and may grant privileges. */
  admin: boolean;
}

/** Whether `caller` may see an object of `project` (undefined: made outside any project, by the CLI). */
export function maySee(caller: Caller, project: string | undefined): boolean {
  return caller.admin || (project !== undefined && project === caller.project);
}

/**
 * What in `spec` only an admin may ask for, each named as the spec names it: privileged, added
 * capabilities, bind mounts of host paths (outside `allowedBindSources`) and host namespaces
 * (the network namespace of the host is every system container's: not among them).
 */
export function adminOnlyAsks(spec: ContainerSpec, allowedBindSources: readonly string[] = []): string[] {
  const asks: string[] = [];
  if (spec.privileged === true) asks.push('privileged');
  if ((spec.capabilities?.add ?? []).length > 0) asks.push(`capabilities ${spec.capabilities?.add?.join(', ')}`);
  const allowed = (source: string) => allowedBindSources.some((dir) => source === dir || source.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
  for (const mount of spec.mounts ?? []) if (mount.type === 'bind' && !allowed(mount.source)) asks.push(`bind mount of ${mount.source}`);
  if (spec.hostPid === true) asks.push('the host PID namespace');
  if (spec.hostIpc === true) asks.push('the host IPC namespace');
  if (spec.hostUts === true) asks.push('the host UTS namespace');
  return asks;
}

/** Images are shared by every project (one store per host): only an admin deletes one. */
export function checkMayDeleteImages(caller: Caller): void {
  if (!caller.admin) throw new SyscontainerError('EDENIED', 'deleting an image needs an admin token (images are shared by every project)');
}
