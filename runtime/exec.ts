import { SyscontainerError } from '../common/errors.js';
import { runcOf, type RuntimeContext } from './context.js';
import { DeploymentStore } from './deployment.js';

/**
 * Runs a command inside the running container (runc exec, whoever supervises it) and returns
 * its result; with `interactive` the caller's stdin/stdout/stderr are attached (`tty`
 * allocates a terminal) and only the exit code is meaningful.
 */
export async function exec(
  ctx: RuntimeContext,
  options: { name: string; command: readonly string[]; interactive?: boolean; tty?: boolean },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  await new DeploymentStore(ctx.root).requireActive(options.name);
  if (options.command.length === 0) throw new SyscontainerError('EUSAGE', 'exec needs a command to run');
  const runc = runcOf(ctx);
  const state = await runc.state(options.name);
  if (state?.status !== 'running') throw new SyscontainerError('ERUNTIME', `container ${options.name} is not running`);
  if (options.interactive) {
    return { exitCode: await runc.execInteractive(options.name, options.command, { tty: options.tty }), stdout: '', stderr: '' };
  }
  return runc.exec(options.name, options.command);
}
