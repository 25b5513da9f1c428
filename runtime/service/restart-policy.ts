// Restart policies by docker's and paunch's names, rendered into the unit. systemd already
// never restarts a unit after an explicit `systemctl stop`, so `always` and `unless-stopped`
// differ only at boot: an unless-stopped container that was stopped stays stopped (its unit
// is disabled by `stop` and enabled again by `start`).
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { directiveValues, setDirective } from './unit-directives.js';

export const restartPolicySchema = z.enum(['no', 'on-failure', 'always', 'unless-stopped']);
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

/** The start limit laid over a restarting unit: a crash loop stops after this and shows `failed`. */
export const startLimit = { intervalSec: 30, burst: 5 } as const;

const systemdRestart: Record<RestartPolicy, string> = { no: 'no', 'on-failure': 'on-failure', always: 'always', 'unless-stopped': 'always' };

/** The unit with `policy` in place of whatever Restart= it had, with a start limit. Pure. */
export function applyRestartPolicy(unit: string, policy: RestartPolicy): string {
  let out = setDirective(unit, 'Service', 'Restart', [systemdRestart[policy]]);
  if (directiveValues(out, 'Service', 'RestartSec').length === 0 && policy !== 'no') out = setDirective(out, 'Service', 'RestartSec', ['1']);
  out = setDirective(out, 'Unit', 'StartLimitIntervalSec', [`${startLimit.intervalSec}s`]);
  out = setDirective(out, 'Unit', 'StartLimitBurst', [String(startLimit.burst)]);
  return out;
}

/** Whether the unit's Restart= brings the container back after it fails (systemd's default is no). Pure. */
export function unitRestarts(unit: string): boolean {
  const value = directiveValues(unit, 'Service', 'Restart').at(-1) ?? 'no';
  return value !== 'no';
}

/** A user's `--restart` value, or a one-line EINVAL. Pure. */
export function parseRestartPolicy(text: string): RestartPolicy {
  const parsed = restartPolicySchema.safeParse(text);
  if (parsed.success) return parsed.data;
  throw new SyscontainerError('EINVAL', `--restart ${JSON.stringify(text)} is not one of no, on-failure, always, unless-stopped`);
}
