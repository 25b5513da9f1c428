import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import { runcOf, type RuntimeContext } from './context.js';
import type { ExecProcess } from './runc.js';
import { DeploymentStore } from './deployment.js';
import { resolveUser } from './render.js';

/**
 * Runs a command inside the running container (runc exec, whoever supervises it) and returns
 * its result; with `interactive` the caller's stdin/stdout/stderr are attached (`tty`
 * allocates a terminal) and only the exit code is meaningful. `user` (UID[:GID] or
 * NAME[:GROUP], names from the container's /etc/passwd and /etc/group) runs it as another user.
 */
export async function exec(
  ctx: RuntimeContext,
  options: { name: string; command: readonly string[]; interactive?: boolean; tty?: boolean; user?: string },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  if (options.command.length === 0) throw new SyscontainerError('EUSAGE', 'exec needs a command to run');
  const runc = runcOf(ctx);
  const state = await runc.state(options.name);
  if (state?.status !== 'running') throw new SyscontainerError('ERUNTIME', `container ${options.name} is not running`);
  if (options.interactive) {
    return { exitCode: await runc.execInteractive(options.name, options.command, { tty: options.tty }), stdout: '', stderr: '' };
  }
  const user = options.user === undefined ? undefined : await resolveUser(path.join(active.dir, 'rootfs'), options.user, active.info.image);
  return runc.exec(options.name, options.command, user !== undefined ? { user } : {});
}

/**
 * Starts a command inside the running container and returns it running, its output unread
 * (`stdin`: a pipe the caller writes and ends). The checks are exec's: installed, a command,
 * running, the user resolved from the container's own files.
 */
export async function startExec(ctx: RuntimeContext, options: { name: string; command: readonly string[]; user?: string; env?: readonly string[]; stdin?: boolean }): Promise<ExecProcess> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  if (options.command.length === 0) throw new SyscontainerError('EUSAGE', 'exec needs a command to run');
  const runc = runcOf(ctx);
  const state = await runc.state(options.name);
  if (state?.status !== 'running') throw new SyscontainerError('ERUNTIME', `container ${options.name} is not running`);
  const user = options.user === undefined ? undefined : await resolveUser(path.join(active.dir, 'rootfs'), options.user, active.info.image);
  return runc.execProcess(options.name, options.command, { ...(user !== undefined ? { user } : {}), ...(options.env !== undefined ? { env: options.env } : {}), ...(options.stdin ? { stdin: true } : {}) });
}
