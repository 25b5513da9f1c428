// The health gate as the transactions call it: after a deployment with a check was (re)started,
// wait for it to report healthy (health-gate.ts). Where the supervisor is systemd the
// container's timer runs the checks; with runc-direct nothing does, so the gate runs them
// (recording them, never acting). Nothing to wait for without a check.
import type { RuntimeContext } from '../context.js';
import type { ActiveDeployment } from '../deployment.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { waitHealthy } from './health-gate.js';
import { runHealthCheck } from './run-health-check.js';

export async function gateDeployment(ctx: RuntimeContext, supervisor: Supervisor, name: string, target: ActiveDeployment, deadlineMs: number | undefined, label?: string): Promise<void> {
  const check = target.info.healthcheck;
  if (check === undefined) return;
  const runCheck = async () => {
    // act: false, so no on-failure action (and no environment for one) is needed.
    await runHealthCheck({ root: ctx.root, prefix: ctx.commandPrefix ?? [], cli: [], probeCli: ctx.healthCli ?? [], env: {}, log: () => undefined }, name, { act: false });
  };
  await waitHealthy({
    name,
    dir: target.dir,
    check,
    ...(label !== undefined ? { label } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(supervisor.schedulesHealthChecks ? {} : { runCheck }),
    stillRunning: () => supervisor.isRunning(name),
    log: (line) => ctx.log?.(line),
  });
}
