// `healthcheck run NAME`: the container's health check once, recorded, acted on after repeated
// failures (runtime/health/run-health-check.ts). Each container's timer runs it through the
// light entry (cli/healthcheck-main.ts) every interval, so it needs only the settings: no
// image store, no context (nothing of the registry or store code is loaded for it).
import { nsenterPrefix, runHealthCheck, runProbe, validateContainerName, type HealthRunOutcome, type ProbeResult } from '../runtime/index.js';
import { selfCommands } from './self-command.js';
import type { ContainerSettings } from './settings.js';
import type { OperationEvents } from './context.js';

export type { HealthRunOutcome };

/**
 * Runs the check of container `name`. Resolves with exit code 0 (healthy) or 1 (unhealthy,
 * or failing within its retries); throws when the check could not run at all (not installed,
 * no check, not running): a front end reports that as 125, as podman does.
 */
export async function runContainerHealthCheck(settings: ContainerSettings, input: { name: string }, events: Pick<OperationEvents, 'log'> = {}): Promise<HealthRunOutcome> {
  validateContainerName(input.name);
  const self = selfCommands();
  return runHealthCheck(
    {
      root: settings.root,
      prefix: nsenterPrefix(settings.systemdNsenterPid),
      cli: self.cli,
      probeCli: self.healthCli,
      env: settings.environment,
      log: (line) => events.log?.(line),
    },
    input.name,
  );
}

/**
 * One TCP or HTTP probe from this process, whose network namespace must be the container's:
 * what `healthcheck run` starts under `nsenter --net` for a container with a network of its
 * own (the light entry's `probe` verb). `timeoutMs` bounds it.
 */
export function probeOnce(protocol: string, target: string, timeoutMs: number): Promise<ProbeResult> {
  if (protocol !== 'TCP' && protocol !== 'HTTP') return Promise.resolve({ ok: false, output: `unknown probe ${protocol}` });
  return runProbe(protocol, target, Number.isInteger(timeoutMs) && timeoutMs > 0 ? timeoutMs : 1000);
}
