// A container's health as status and containers list show it: the check, the status from
// the last results (`starting` before the first), and whether a timer runs the check.
import { describeHealthCheck, type HealthCheck } from './health-check.js';
import { readHealthState, type HealthResult, type HealthStatus } from './health-state.js';

export interface ContainerHealth {
  status: HealthStatus;
  failingStreak: number;
  /** The check in effect, in words. */
  check: string;
  /** Whether a systemd timer runs the check; without systemd only `healthcheck run` does. */
  timer: boolean;
  log: HealthResult[];
  lastAction?: { action: string; at: string; output: string };
}

export async function containerHealth(deploymentDir: string, check: HealthCheck, supervised: boolean): Promise<ContainerHealth> {
  const state = await readHealthState(deploymentDir);
  return {
    status: state?.status ?? 'starting',
    failingStreak: state?.failingStreak ?? 0,
    check: describeHealthCheck(check),
    timer: supervised,
    log: state?.log ?? [],
    ...(state?.lastAction !== undefined ? { lastAction: state.lastAction } : {}),
  };
}
