// `healthcheck run NAME`: the container's health check once, recorded, acted on after repeated
// failures (runtime/health/run-health-check.ts). Each container's timer runs it through the
// light entry (cli/healthcheck-main.ts) every interval, so it needs only the settings: no
// image store, no context (nothing of the registry or store code is loaded for it).
import { nsenterPrefix, runHealthCheck, validateContainerName, type HealthRunOutcome } from '../runtime/index.js';
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
  return runHealthCheck(
    {
      root: settings.root,
      prefix: nsenterPrefix(settings.systemdNsenterPid),
      cli: selfCommands().cli,
      env: settings.environment,
      log: (line) => events.log?.(line),
    },
    input.name,
  );
}
