// What `healthcheck run` needs of a stored check, without the schema library: it starts every
// interval on every host, so it reads the check from the deployment's info record (validated
// by the schema when written) and checks its shape by hand.
import type { HealthCheck } from './health-check.js';

/** The argv that runs the check inside the container: Docker's CMD as is, CMD-SHELL through /bin/sh -c. Pure. */
export function healthCommand(check: Pick<HealthCheck, 'test'>): string[] {
  const [kind, ...rest] = check.test;
  return kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest[0] as string] : rest;
}

const actions: readonly string[] = ['none', 'restart', 'stop', 'kill'];
const whole = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;

/** `value` when it is a well-formed stored check, else undefined. Pure. */
export function parseStoredHealthCheck(value: unknown): HealthCheck | undefined {
  const c = value as HealthCheck;
  if (typeof value !== 'object' || value === null || !Array.isArray(c.test) || c.test.length < 2) return undefined;
  if (!c.test.every((w) => typeof w === 'string' && w !== '')) return undefined;
  if (!(c.test[0] === 'CMD' || (c.test[0] === 'CMD-SHELL' && c.test.length === 2))) return undefined;
  if (!whole(c.intervalMs, 1) || !whole(c.timeoutMs, 1) || !whole(c.retries, 1) || !whole(c.startPeriodMs, 0) || !actions.includes(c.onFailure)) return undefined;
  return c;
}
