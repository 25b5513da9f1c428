// Restart policies by docker's and paunch's names, rendered into the unit. systemd already
// never restarts a unit after an explicit `systemctl stop`, so `always` and `unless-stopped`
// differ only at boot: an unless-stopped container that was stopped stays stopped (its unit
// is disabled by `stop` and enabled again by `start`).
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { directiveValues, setDirective } from './unit-directives.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export const restartPolicySchema = builtOnFirstUse(() => z.enum(['no', 'on-failure', 'always', 'unless-stopped']));
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

/** The start limit laid over a restarting unit: a crash loop stops after this and shows `failed`. */
export const startLimit = { intervalSec: 30, burst: 5 } as const;

const systemdRestart: Record<RestartPolicy, string> = { no: 'no', 'on-failure': 'on-failure', always: 'always', 'unless-stopped': 'always' };

/**
 * The unit with `policy` in place of whatever Restart= it had, with a start limit: 5 starts in
 * 30 s, or with `retries` (on-failure:N, docker's MaximumRetryCount) the first start and N
 * restarts in all, however far apart (StartLimitIntervalSec=infinity), until the next explicit
 * start (which resets the unit's failed state and with it the count). Pure.
 */
export function applyRestartPolicy(unit: string, policy: RestartPolicy, retries?: number): string {
  let out = setDirective(unit, 'Service', 'Restart', [systemdRestart[policy]]);
  if (directiveValues(out, 'Service', 'RestartSec').length === 0 && policy !== 'no') out = setDirective(out, 'Service', 'RestartSec', ['1']);
  const limited = retries !== undefined && policy === 'on-failure';
  out = setDirective(out, 'Unit', 'StartLimitIntervalSec', [limited ? 'infinity' : `${startLimit.intervalSec}s`]);
  out = setDirective(out, 'Unit', 'StartLimitBurst', [String(limited ? retries + 1 : startLimit.burst)]);
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
  throw new SyscontainerError('EINVAL', `--restart ${JSON.stringify(text)} is not one of no, on-failure[:N], always, unless-stopped`);
}

/** `--restart` as docker and podman take it: a policy, or on-failure:N (N restarts at most; 0: no bound). Pure. */
export function parseRestartOption(text: string): { restart: RestartPolicy; retries?: number } {
  const bounded = /^on-failure:(\d{1,4})$/.exec(text);
  if (bounded === null) return { restart: parseRestartPolicy(text) };
  const retries = Number(bounded[1]);
  if (retries > 1000) throw new SyscontainerError('EINVAL', `--restart ${JSON.stringify(text)}: at most 1000 retries`);
  return retries === 0 ? { restart: 'on-failure' } : { restart: 'on-failure', retries };
}
