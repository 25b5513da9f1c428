// Durations as users write them for health checks (docker's and podman's form: `30s`, `2m`,
// `1m30s`, `500ms`, `1h`), held as whole milliseconds. A bare number is refused rather than
// guessed: docker reads nanoseconds there, Kubernetes and paunch seconds.
import { SyscontainerError } from '../../common/errors.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** The longest duration accepted anywhere (a day): beyond it a value is a typo, not a plan. */
export const maxDurationMs = 24 * 3_600_000;

/**
 * Milliseconds of `text` (`30s`, `1m30s`, `1.5s`, `250ms`). Throws EINVAL naming `what` when it
 * does not parse, rounds to less than 1 ms, or exceeds a day. Pure.
 */
export function parseDuration(text: string, what: string): number {
  const value = text.trim();
  if (!whole.test(value)) {
    const hint = /^\d+(\.\d+)?$/.test(value) ? `; add a unit: ${value}s` : '';
    throw new SyscontainerError('EINVAL', `${what} ${JSON.stringify(text)} is not a duration (use e.g. 30s, 2m, 1m30s, 500ms)${hint}`);
  }
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(part)) ms += Number(amount) * (units[unit as string] as number);
  ms = Math.round(ms);
  if (ms > maxDurationMs) throw new SyscontainerError('EINVAL', `${what} ${JSON.stringify(text)} is longer than 24h`);
  return ms;
}

/** Milliseconds as text parseDuration reads back: 90000 → `1m30s`, 1500 → `1500ms`. Pure. */
export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  if (ms === 0) return '0s';
  let rest = ms / 1000;
  let text = '';
  for (const [unit, size] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

/** A whole-milliseconds duration as systemd reads a time span (`1500ms`, `30s`); systemd accepts both forms. Pure. */
export function systemdTimeSpan(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
