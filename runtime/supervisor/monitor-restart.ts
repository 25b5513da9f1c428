// What the runc-direct monitor (container-monitor.ts) needs of a unit's restart policy, read
// once from the unit file when the container is started, so the monitor stays /bin/sh and
// decides each restart without Node: systemd's Restart= (no, on-failure, always; the policies
// unless-stopped and on-failure:N render as these: restart-policy.ts), RestartSec= and the
// start limit (StartLimitBurst= starts within StartLimitIntervalSec=; infinity: ever since the
// explicit start). Where systemd restarts every RestartSec, the monitor doubles the delay after
// each restart up to maxDelayMs: a crash loop without a manager to rate-limit it costs little.
import { directiveValues } from '../service/unit-directives.js';

export interface RestartRules {
  restart: 'no' | 'on-failure' | 'always';
  delayMs: number;
  maxDelayMs: number;
  /** Starts allowed within intervalMs (the explicit start counted); 0: no limit (StartLimitIntervalSec=0). */
  burst: number;
  /** 0: no window, every start since the explicit one counts (StartLimitIntervalSec=infinity). */
  intervalMs: number;
}

/** systemd's defaults where a unit says nothing: DefaultStartLimitBurst=5 in 10 s; RestartSec as our template writes it. */
const defaults = { delayMs: 1000, burst: 5, intervalMs: 10_000 };
/** The longest the doubling may reach: a bound, not a schedule (RestartSec beyond it is kept). */
const backoffCapMs = 10_000;

const spanUnits: Record<string, number> = { us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000 };

/** A systemd time span ("1", "500ms", "1min 30s", "infinity") in ms; undefined when it is none. Pure. */
export function parseTimeSpanMs(text: string): number | undefined {
  const value = text.trim();
  if (value === 'infinity') return Number.POSITIVE_INFINITY;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('').replace(/\s+/g, '') !== value.replace(/\s+/g, '')) return undefined;
  let ms = 0;
  for (const [, number, unit] of parts) {
    const scale = spanUnits[unit as string];
    if (scale === undefined) return undefined;
    ms += Number(number) * scale;
  }
  return Math.round(ms);
}

/** The unit's restart rules (the last value of each directive wins, as systemd reads them). Pure. */
export function restartRules(unit: string): RestartRules {
  const last = (section: string, key: string) => directiveValues(unit, section, key).at(-1);
  const restart = last('Service', 'Restart') ?? 'no';
  const delay = parseTimeSpanMs(last('Service', 'RestartSec') ?? '') ?? defaults.delayMs;
  const interval = parseTimeSpanMs(last('Unit', 'StartLimitIntervalSec') ?? '') ?? defaults.intervalMs;
  const burst = Number(last('Unit', 'StartLimitBurst') ?? defaults.burst);
  const delayMs = Number.isFinite(delay) ? delay : defaults.delayMs;
  return {
    // systemd's other values (on-success, on-abnormal, on-abort, on-watchdog): restarts on failure are the part kept.
    restart: restart === 'always' || restart === 'no' ? restart : 'on-failure',
    delayMs,
    maxDelayMs: Math.max(delayMs, backoffCapMs),
    // StartLimitIntervalSec=0 turns systemd's limit off; infinity makes its window endless.
    burst: interval === 0 ? 0 : Number.isInteger(burst) && burst > 0 ? burst : defaults.burst,
    intervalMs: Number.isFinite(interval) ? interval : 0,
  };
}
