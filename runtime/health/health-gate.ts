// The health gate of update and rollback: a new deployment that has a health check counts as
// good only once it reports `healthy` within a deadline; `unhealthy`, a stop, or the deadline
// passing make it bad (and the caller puts the old deployment back). Under systemd the
// container's timer runs the checks and this only reads their results; where nothing
// schedules them (runc runs the container directly) the gate runs them itself.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError } from '../../common/errors.js';
import { formatDuration } from './duration.js';
import { defaultHealthDeadlineMs, type HealthCheck } from './health-check.js';
import { healthStateFile, readHealthState } from './health-state.js';

/** A deployment that did not turn healthy; `lastOutput` is what its last check said. */
export class UnhealthyError extends SyscontainerError {
  readonly lastOutput: string;

  constructor(name: string, why: string, lastOutput: string) {
    super('ERUNTIME', `${name}: ${why}`);
    this.name = 'UnhealthyError';
    this.lastOutput = lastOutput;
  }
}

export interface HealthGateOptions {
  name: string;
  dir: string;
  check: HealthCheck;
  /** Default: start period + retries × interval (+ a timeout), at most 5 minutes. */
  deadlineMs?: number;
  /** Runs one check and records it (no on-failure action); given when nothing else schedules checks. */
  runCheck?: () => Promise<void>;
  /** What the deployment is to the user, in messages: 'new deployment' (update), 'revision 3' (rollback). */
  label?: string;
  /** Whether the container still runs; the gate fails at once when it stopped. */
  stillRunning: () => Promise<boolean>;
  log?: (line: string) => void;
}

const oneLine = (text: string) => text.trim().split('\n').filter(Boolean).slice(-3).join(' / ').slice(0, 500);

/**
 * While an update or rollback waits on a deployment, its own timer's checks must not act on it
 * (restart or stop it under the transaction): `healthcheck run` skips the action while this
 * file is in the deployment.
 */
export const gateMarker = (dir: string) => path.join(dir, '.health-gate');

/** Starts the deployment's health afresh (a rollback target may hold results of an earlier run). */
export async function resetHealth(dir: string): Promise<void> {
  await rm(healthStateFile(dir), { force: true });
}

/** Resolves when the deployment reports healthy; throws UnhealthyError otherwise. */
export async function waitHealthy(options: HealthGateOptions): Promise<void> {
  const { name, dir, check } = options;
  const deadlineMs = options.deadlineMs ?? defaultHealthDeadlineMs(check);
  options.log?.(`Waiting up to ${formatDuration(deadlineMs)} for ${name} to report healthy`);
  const deadline = Date.now() + deadlineMs;
  await writeFile(gateMarker(dir), `${process.pid}\n`);
  try {
    await gate(options, deadline, deadlineMs);
  } finally {
    await rm(gateMarker(dir), { force: true });
  }
}

async function gate(options: HealthGateOptions, deadline: number, deadlineMs: number): Promise<void> {
  const { name, dir, check } = options;
  const label = options.label ?? 'new deployment';
  const lastOutput = async () => oneLine((await readHealthState(dir))?.log.at(-1)?.output ?? '');
  for (;;) {
    if (options.runCheck !== undefined) await options.runCheck().catch(() => undefined);
    const state = await readHealthState(dir);
    if (state?.status === 'healthy') return;
    if (state?.status === 'unhealthy') {
      const output = await lastOutput();
      throw new UnhealthyError(name, `${label} unhealthy: ${output === '' ? `check failed ${state.failingStreak} time${state.failingStreak === 1 ? '' : 's'} with no output` : output}`, output);
    }
    if (!(await options.stillRunning())) throw new UnhealthyError(name, `${label} stopped before it reported healthy`, await lastOutput());
    if (Date.now() >= deadline) {
      // Checks that ran but printed nothing (test -f) are not "no check finished".
      const last = (await readHealthState(dir))?.log.at(-1);
      const output = oneLine(last?.output ?? '');
      const detail = last === undefined ? ' (no check finished)' : `: ${output === '' ? `last check exited ${last.exitCode} with no output` : output}`;
      throw new UnhealthyError(name, `${label} not healthy within ${formatDuration(deadlineMs)}${detail}`, output);
    }
    await sleep(Math.min(options.runCheck !== undefined ? check.intervalMs : 250, Math.max(50, deadline - Date.now())));
  }
}
