// What a user asks of a container's service beyond its image, as a front end has it in text
// (the CLI's --health-*, --restart, --requires/--wants/--after, --notify, --auto-update):
// parsed here into the runtime's ServiceOptions, each bad value a one-line EINVAL naming its
// option, before anything runs. Front ends with structured input (apply's probes, the REST
// API's docker HealthConfig and RestartPolicy) build ServiceOptions themselves
// (healthOptionsFromImage reads docker's nanosecond form) and the runtime validates them.
import { healthOptionsFromFlags, parseDuration, parseRestartOption, validateContainerName, type ServiceOptions } from '../runtime/index.js';
import { SyscontainerError } from '../common/errors.js';

export interface ServiceText {
  healthCmd?: string | undefined;
  healthInterval?: string | undefined;
  healthTimeout?: string | undefined;
  healthRetries?: string | undefined;
  healthStartPeriod?: string | undefined;
  healthOnFailure?: string | undefined;
  noHealthcheck?: boolean | undefined;
  restart?: string | undefined;
  requires?: readonly string[] | undefined;
  wants?: readonly string[] | undefined;
  after?: readonly string[] | undefined;
  notify?: boolean | undefined;
  autoUpdate?: boolean | undefined;
}

function names(list: readonly string[] | undefined, option: string): string[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  for (const name of list) {
    try {
      validateContainerName(name);
    } catch (error) {
      throw new SyscontainerError('EINVAL', `--${option}: ${(error as Error).message}`);
    }
  }
  return [...new Set(list)];
}

/** The service options the text gives (only those given: update merges them over the kept ones). Pure. */
export function parseServiceOptions(text: ServiceText): ServiceOptions {
  const service: ServiceOptions = {};
  const health = healthOptionsFromFlags({
    ...(text.healthCmd !== undefined ? { cmd: text.healthCmd } : {}),
    ...(text.healthInterval !== undefined ? { interval: text.healthInterval } : {}),
    ...(text.healthTimeout !== undefined ? { timeout: text.healthTimeout } : {}),
    ...(text.healthRetries !== undefined ? { retries: text.healthRetries } : {}),
    ...(text.healthStartPeriod !== undefined ? { startPeriod: text.healthStartPeriod } : {}),
    ...(text.healthOnFailure !== undefined ? { onFailure: text.healthOnFailure } : {}),
    noHealthcheck: text.noHealthcheck === true,
  });
  if (health !== undefined) service.health = health;
  if (text.restart !== undefined) {
    const { restart, retries } = parseRestartOption(text.restart);
    service.restart = restart;
    if (retries !== undefined) service.restartRetries = retries;
  }
  for (const key of ['requires', 'wants', 'after'] as const) {
    const list = names(text[key], key);
    if (list !== undefined) service[key] = list;
  }
  if (text.notify === true) service.notify = true;
  if (text.autoUpdate === true) service.autoUpdate = true;
  return service;
}

/** `--health-deadline D` of update and rollback, in ms (at least 1 s). Pure. */
export function parseHealthDeadline(text: string): number {
  const ms = parseDuration(text, '--health-deadline');
  if (ms < 1000) throw new SyscontainerError('EINVAL', `--health-deadline ${JSON.stringify(text)} is shorter than 1s`);
  return ms;
}
