// The options of install and update that say what the service does beyond its image: health
// check, restart policy, ordering, sd_notify, auto-update. Read as text here; app/ parses and
// validates them (one-line errors naming the option, before anything runs).
import { parseHealthDeadline, parseServiceOptions, type ServiceOptions } from '../../app/index.js';
import { stringList, stringOption } from '../arguments.js';
import type { OptionSpecs, OptionValues } from '../command.js';

export const serviceOptions: OptionSpecs = {
  'health-cmd': { type: 'string', placeholder: 'CMD', description: "health check run in the container (runc exec): a shell command line, or a JSON array run as it is; replaces the image's Healthcheck" },
  'health-interval': { type: 'string', placeholder: 'D', description: 'time between checks: 30s, 2m, 1m30s, 500ms (default 30s; at least 1s)' },
  'health-timeout': { type: 'string', placeholder: 'D', description: 'a check running longer is killed and counts as failed (default 30s)' },
  'health-retries': { type: 'string', placeholder: 'N', description: 'consecutive failures that make the container unhealthy (default 3)' },
  'health-start-period': { type: 'string', placeholder: 'D', description: 'failures after a start do not count for this long (default 0s)' },
  'health-on-failure': { type: 'string', placeholder: 'ACTION', description: 'none|restart|stop|kill once unhealthy (default restart when the restart policy restarts, else none)' },
  'no-healthcheck': { type: 'boolean', description: "no health check, not even the image's" },
  restart: { type: 'string', placeholder: 'POLICY', description: 'no|on-failure[:N]|always|unless-stopped (default on-failure; on-failure:N restarts at most N times; an image\'s own unit keeps its Restart=)' },
  requires: { type: 'string', multiple: true, placeholder: 'NAME', description: 'needs container NAME: started with it, stopped when it stops, started after it (must be installed)' },
  wants: { type: 'string', multiple: true, placeholder: 'NAME', description: 'starts container NAME with this one when installed, and after it' },
  after: { type: 'string', multiple: true, placeholder: 'NAME', description: 'starts after container NAME when both start (at boot too)' },
  notify: { type: 'boolean', description: 'the service says READY=1 itself (sd_notify): started means it said so (Type=notify)' },
  'auto-update': { type: 'boolean', description: 'let `syscontainer auto-update` update it when its image changes in the registry' },
};

export const serviceOptionsUsage =
  '[--health-cmd CMD] [--health-interval D] [--health-timeout D] [--health-retries N] [--health-start-period D] [--health-on-failure ACTION] [--no-healthcheck] [--restart POLICY] [--requires NAME]... [--wants NAME]... [--after NAME]... [--notify] [--auto-update]';

export const healthDeadlineOption: OptionSpecs = {
  'health-deadline': { type: 'string', placeholder: 'D', description: 'how long the new deployment has to report healthy before it is rolled back (default start period + retries x interval, at most 5m)' },
};

const listOrUndefined = (options: OptionValues, name: string) => (options[name] === undefined ? undefined : stringList(options, name));

/** The service options given (only those: update merges them over the kept ones). */
export function serviceOptionsOf(options: OptionValues): ServiceOptions {
  return parseServiceOptions({
    healthCmd: stringOption(options, 'health-cmd'),
    healthInterval: stringOption(options, 'health-interval'),
    healthTimeout: stringOption(options, 'health-timeout'),
    healthRetries: stringOption(options, 'health-retries'),
    healthStartPeriod: stringOption(options, 'health-start-period'),
    healthOnFailure: stringOption(options, 'health-on-failure'),
    noHealthcheck: options['no-healthcheck'] === true,
    restart: stringOption(options, 'restart'),
    requires: listOrUndefined(options, 'requires'),
    wants: listOrUndefined(options, 'wants'),
    after: listOrUndefined(options, 'after'),
    notify: options.notify === true,
    autoUpdate: options['auto-update'] === true,
  });
}

/** `--health-deadline D` in ms, when given. */
export function healthDeadlineOf(options: OptionValues): { healthDeadlineMs?: number } {
  const text = stringOption(options, 'health-deadline');
  return text === undefined ? {} : { healthDeadlineMs: parseHealthDeadline(text) };
}
