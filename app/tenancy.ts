// Who may see and do what in the REST service's projects (OpenStack's containers-service
// model): every container and exec belongs to the project that made it (a label); a caller
// sees its own project's only, an admin every project's (and the CLI's containers, which have
// none); what a container may ask for beyond the default confinement needs an admin.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
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

/** `source` with its symlinks resolved as far as it exists (runc follows them when it mounts). */
async function resolvedPath(source: string): Promise<string> {
  const missing: string[] = [];
  let at = source;
  for (;;) {
    try {
      return path.posix.join(await realpath(at), ...missing.reverse());
    } catch {
      if (at === '/') return source;
      missing.push(path.posix.basename(at));
      at = path.posix.dirname(at);
    }
  }
}

/**
 * What in `spec` only an admin may ask for, each named as the spec names it: privileged, added
 * capabilities, bind mounts of host paths outside `allowedBindSources` (symlinks resolved, so
 * a link inside an allowed directory does not lead out of it) and host namespaces (the host's
 * network namespace is every system container's: not among them).
 */
export async function adminOnlyAsks(spec: ContainerSpec, allowedBindSources: readonly string[] = []): Promise<string[]> {
  const asks: string[] = [];
  if (spec.privileged === true) asks.push('privileged');
  if ((spec.capabilities?.add ?? []).length > 0) asks.push(`capabilities ${spec.capabilities?.add?.join(', ')}`);
  const allowed = await Promise.all(allowedBindSources.map(resolvedPath));
  const inside = (source: string) => allowed.some((dir) => source === dir || source.startsWith(`${dir}/`));
  for (const mount of spec.mounts ?? []) {
    if (mount.type === 'bind' && !inside(await resolvedPath(mount.source))) asks.push(`bind mount of ${mount.source}`);
  }
  if (spec.hostPid === true) asks.push('the host PID namespace');
  if (spec.hostIpc === true) asks.push('the host IPC namespace');
  if (spec.hostUts === true) asks.push('the host UTS namespace');
  return asks;
}

/** Images are shared by every project (one store per host): only an admin deletes one. */
export function checkMayDeleteImages(caller: Caller): void {
  if (!caller.admin) throw new SyscontainerError('EDENIED', 'deleting an image needs an admin token (images are shared by every project)');
}

/** A directory for `serve --allow-bind`: absolute and normalised, and not the root (that would allow every path). */
export function parseAllowedBindSource(dir: string): string {
  const normal = path.posix.normalize(dir).replace(/(.)\/+$/, '$1');
  if (!dir.startsWith('/') || normal !== dir.replace(/(.)\/+$/, '$1') || dir.split('/').includes('..')) {
    throw new SyscontainerError('EUSAGE', `--allow-bind ${JSON.stringify(dir.slice(0, 200))}: expected an absolute, normalised directory`);
  }
  if (normal === '/') throw new SyscontainerError('EUSAGE', '--allow-bind /: would let every project mount any host path; leave bind mounts to admin tokens instead');
  return normal;
}
