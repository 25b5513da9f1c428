// The container's output: the unit's journal with systemd, the deployment's container.log
// without (the supervisor knows which).
import type { RuntimeContext } from '../context.js';
import { DeploymentStore } from '../deployment.js';
import { supervisorOf } from '../supervisor/choose.js';

/** The container's output, the last `lines` lines when given. ENOTFOUND when not installed. */
export async function logs(ctx: RuntimeContext, options: { name: string; lines?: number }): Promise<string> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  return (await supervisorOf(ctx)).logs(options.name, active.dir, { lines: options.lines });
}

/** Follows the container's output, handing each chunk to `write`, until `signal` aborts. Resolves then. */
export async function followLogs(
  ctx: RuntimeContext,
  options: { name: string; lines?: number; write: (chunk: string) => void; signal: AbortSignal },
): Promise<void> {
  const active = await new DeploymentStore(ctx.root).requireActive(options.name);
  await (await supervisorOf(ctx)).followLogs(options.name, active.dir, { lines: options.lines, write: options.write, signal: options.signal });
}
