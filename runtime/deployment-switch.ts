// Switching a container to another of its deployments: the image's host files, the ROOT/NAME
// symlink, the host's unit and tmpfiles file, in that order (a kill in between is repaired by
// container-lock.ts), then the supervisor reloads the units that changed
// (systemd: a daemon-reload only when it holds an older version of one).
import type { RuntimeContext } from './context.js';
import { DeploymentStore, type ActiveDeployment } from './deployment.js';
import { switchDeploymentHostFiles } from './deployment-host-files.js';
import type { Supervisor } from './supervisor/supervisor.js';
import { publishUnitFiles, tmpfilesFile } from './unit-files.js';

/** Points NAME at `target` and makes the host files (unit, tmpfiles) those of that slot. */
export async function switchDeployment(ctx: RuntimeContext, supervisor: Supervisor, name: string, target: ActiveDeployment): Promise<void> {
  const deployments = new DeploymentStore(ctx.root);
  // The image's host files first: a conflict with a host file (EEXIST) changes nothing.
  const from = await deployments.active(name);
  await switchDeploymentHostFiles(ctx, name, target, from);
  await deployments.activate(name, target.slot);
  const changes = await publishUnitFiles(ctx, name, target.dir, target.info);
  if (target.info.hasTmpfiles) await ctx.systemd.tmpfilesCreate(tmpfilesFile(ctx, name));
  await supervisor.reload(changes);
}
