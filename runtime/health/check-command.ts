// What `healthcheck run` needs of a stored check, without the schema library: it starts every
// interval on every host, so it reads the check from the deployment's info record (validated
// by the schema when written) and checks its shape by hand.
import type { HealthCheck } from './health-check.js';

/** What a check does: run a command in the container, or probe it from outside (TCP, HTTP). */
export type CheckPlan = { via: 'exec'; argv: string[] } | { via: 'probe'; protocol: 'TCP' | 'HTTP'; target: string };

/** The plan of `check`: Docker's CMD as is, CMD-SHELL through /bin/sh -c, TCP and HTTP probes. Pure. */
export function checkPlan(check: Pick<HealthCheck, 'test'>): CheckPlan {
  const [kind, ...rest] = check.test;
  if (kind === 'TCP' || kind === 'HTTP') return { via: 'probe', protocol: kind, target: rest[0] as string };
  return { via: 'exec', argv: kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest[0] as string] : rest };
}

/** The argv that runs a command check inside the container. Pure. */
export function healthCommand(check: Pick<HealthCheck, 'test'>): string[] {
  const plan = checkPlan(check);
  return plan.via === 'exec' ? plan.argv : [];
}

const actions: readonly string[] = ['none', 'restart', 'stop', 'kill'];
const whole = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;

/** `value` when it is a well-formed stored check, else undefined. Pure. */
export function parseStoredHealthCheck(value: unknown): HealthCheck | undefined {
  const c = value as HealthCheck;
  if (typeof value !== 'object' || value === null || !Array.isArray(c.test) || c.test.length < 2) return undefined;
  if (!c.test.every((w) => typeof w === 'string' && w !== '')) return undefined;
  if (!(c.test[0] === 'CMD' || (['CMD-SHELL', 'TCP', 'HTTP'].includes(c.test[0]) && c.test.length === 2))) return undefined;
  if (!whole(c.intervalMs, 1) || !whole(c.timeoutMs, 1) || !whole(c.retries, 1) || !whole(c.startPeriodMs, 0) || !actions.includes(c.onFailure)) return undefined;
  return c;
}
