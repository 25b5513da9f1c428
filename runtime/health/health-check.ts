// The health check of a container: where it comes from and what is kept. Sources, later wins:
// the image config's `Healthcheck` (Docker's schema, durations in nanoseconds), then the
// options given to install or update (kept in the deployment and reused by update, like --set
// values). The result is one check in effect per deployment, or none.
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { maxDurationMs, parseDuration, formatDuration } from './duration.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

/** What runs after `retries` consecutive failures (podman's --health-on-failure). */
export const healthOnFailureSchema = builtOnFirstUse(() => z.enum(['none', 'restart', 'stop', 'kill']));
export type HealthOnFailure = z.infer<typeof healthOnFailureSchema>;

const word = builtOnFirstUse(() => z.string().min(1).max(4096));
/** Docker's Test forms that run something in the container: the argv itself, or one line for /bin/sh -c. */
const commandTestSchema = builtOnFirstUse(() => z.union([z.tuple([z.literal('CMD'), word]).rest(word), z.tuple([z.literal('CMD-SHELL'), word])]));

/** `HOST:PORT` (an IPv6 host in brackets), port 1-65535. */
const hostPort = builtOnFirstUse(() => z
  .string()
  .max(300)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'is not HOST:PORT')
  .refine((text) => {
    const port = Number(text.slice(text.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'has a port outside 1-65535'));
const httpUrl = builtOnFirstUse(() => z
  .string()
  .max(4096)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'is not an http:// or https:// URL without credentials'));
/**
 * Probes made from outside the container, in its network namespace, as the kubelet makes
 * Kubernetes' tcpSocket and httpGet probes (so the image needs no curl or nc): TCP connects to
 * HOST:PORT; HTTP GETs the URL and passes on a status of 200-399. Given by apply's pod probes
 * and the API; images' Healthcheck has no such form.
 */
const probeTestSchema = builtOnFirstUse(() => z.union([z.tuple([z.literal('TCP'), hostPort]), z.tuple([z.literal('HTTP'), httpUrl])]));
const runnableTestSchema = builtOnFirstUse(() => z.union([commandTestSchema, probeTestSchema]));
const noneTestSchema = builtOnFirstUse(() => z.tuple([z.literal('NONE')]));
/** The Test forms given as an option: a runnable one, or NONE (no check, even the image's). */
export const healthTestSchema = builtOnFirstUse(() => z.union([runnableTestSchema, noneTestSchema]));
export type HealthTest = z.infer<typeof healthTestSchema>;
/** The forms an image config's Healthcheck.Test may take (Docker's). */
const imageTestSchema = builtOnFirstUse(() => z.union([commandTestSchema, noneTestSchema]));

export const defaults = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 } as const;
/** Limits of a check: a timer firing more often than every second costs more than it tells. */
export const limits = { minIntervalMs: 1000, minTimeoutMs: 100, maxRetries: 100 } as const;

const interval = builtOnFirstUse(() => z.number().int().min(limits.minIntervalMs).max(maxDurationMs));
const timeout = builtOnFirstUse(() => z.number().int().min(limits.minTimeoutMs).max(maxDurationMs));
const retries = builtOnFirstUse(() => z.number().int().min(1).max(limits.maxRetries));
const startPeriod = builtOnFirstUse(() => z.number().int().min(0).max(maxDurationMs));

/** The health options a user gave (install/update flags, apply's probes, the API's HealthConfig). */
export const healthOptionsSchema = builtOnFirstUse(() => z
  .object({
    test: healthTestSchema.optional(),
    intervalMs: interval.optional(),
    timeoutMs: timeout.optional(),
    retries: retries.optional(),
    startPeriodMs: startPeriod.optional(),
    onFailure: healthOnFailureSchema.optional(),
  })
  .strict());
export type HealthOptions = z.infer<typeof healthOptionsSchema>;

/** The check in effect for a deployment (kept in its info record). */
export const healthCheckSchema = builtOnFirstUse(() => z
  .object({
    test: runnableTestSchema,
    intervalMs: interval,
    timeoutMs: timeout,
    retries,
    startPeriodMs: startPeriod,
    onFailure: healthOnFailureSchema,
  })
  .strict());
export type HealthCheck = z.infer<typeof healthCheckSchema>;

// Docker's schema: durations in nanoseconds, 0 (or absent) meaning the default.
const nanoseconds = builtOnFirstUse(() => z.number().int().min(0).max(maxDurationMs * 1e6));
const imageHealthcheckSchema = builtOnFirstUse(() => z
  .object({
    Test: z.array(z.string()).nullish(),
    Interval: nanoseconds.nullish(),
    Timeout: nanoseconds.nullish(),
    StartPeriod: nanoseconds.nullish(),
    StartInterval: nanoseconds.nullish(),
    Retries: z.number().int().min(0).max(limits.maxRetries).nullish(),
  })
  .passthrough());

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'invalid' : `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/**
 * The image config's `Healthcheck` as options (undefined when the image has none or inherits:
 * an empty Test). Throws EMANIFEST naming the image when it is malformed. Durations under the
 * minimum interval are raised to it: an image's 500 ms means "often", not an error. Pure.
 */
export function healthOptionsFromImage(healthcheck: unknown, imageName: string): HealthOptions | undefined {
  if (healthcheck === undefined || healthcheck === null) return undefined;
  const parsed = imageHealthcheckSchema.safeParse(healthcheck);
  if (!parsed.success) throw new SyscontainerError('EMANIFEST', `image ${imageName}: config Healthcheck: ${firstIssue(parsed.error)}`);
  const { Test, Interval, Timeout, StartPeriod, Retries } = parsed.data;
  if (Test === undefined || Test === null || Test.length === 0) return undefined;
  const test = imageTestSchema.safeParse(Test);
  if (!test.success) {
    throw new SyscontainerError('EMANIFEST', `image ${imageName}: config Healthcheck.Test ${JSON.stringify(Test).slice(0, 200)} is not ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]`);
  }
  const ms = (ns: number | null | undefined, min: number) => (ns ? Math.max(min, Math.round(ns / 1e6)) : undefined);
  const options: HealthOptions = { test: test.data };
  const intervalMs = ms(Interval, limits.minIntervalMs);
  const timeoutMs = ms(Timeout, limits.minTimeoutMs);
  const startPeriodMs = ms(StartPeriod, 0);
  if (intervalMs !== undefined) options.intervalMs = intervalMs;
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  if (startPeriodMs !== undefined) options.startPeriodMs = startPeriodMs;
  if (Retries) options.retries = Retries;
  return options;
}

/** `later` over `earlier`, field by field. Pure. */
export function mergeHealthOptions(earlier: HealthOptions | undefined, later: HealthOptions | undefined): HealthOptions | undefined {
  if (earlier === undefined) return later;
  if (later === undefined) return earlier;
  return { ...earlier, ...Object.fromEntries(Object.entries(later).filter(([, v]) => v !== undefined)) };
}

/**
 * The check in effect: the image's options under the user's, with docker's defaults; undefined
 * when neither gives a command or the user said NONE. `restarts` says whether the unit's
 * restart policy restarts the container: the default on-failure action is `restart` then,
 * else `none`. Pure.
 */
export function resolveHealthCheck(fromImage: HealthOptions | undefined, fromUser: HealthOptions | undefined, restarts: boolean): HealthCheck | undefined {
  const merged = mergeHealthOptions(fromImage, fromUser);
  if (merged?.test === undefined || merged.test[0] === 'NONE') return undefined;
  return healthCheckSchema.parse({
    test: merged.test,
    intervalMs: merged.intervalMs ?? defaults.intervalMs,
    timeoutMs: merged.timeoutMs ?? defaults.timeoutMs,
    retries: merged.retries ?? defaults.retries,
    startPeriodMs: merged.startPeriodMs ?? defaults.startPeriodMs,
    onFailure: merged.onFailure ?? (restarts ? 'restart' : 'none'),
  });
}

/** The check as one line for people: `CMD-SHELL test -f /ready, every 30s (timeout 30s), 3 retries…`. Pure. */
export function describeHealthCheck(check: HealthCheck): string {
  const [kind, ...rest] = check.test;
  const command = kind === 'CMD-SHELL' ? (rest[0] as string) : kind === 'CMD' ? JSON.stringify(rest) : `${kind} ${rest[0] as string}`;
  const start = check.startPeriodMs > 0 ? `, start period ${formatDuration(check.startPeriodMs)}` : '';
  return `${command}: every ${formatDuration(check.intervalMs)}, timeout ${formatDuration(check.timeoutMs)}, ${check.retries} retries${start}, on failure ${check.onFailure}`;
}

/**
 * `--health-cmd` as podman reads it: a JSON array of strings is the command itself (Docker's
 * CMD form, no shell: for images without /bin/sh), anything else a shell command line
 * (CMD-SHELL). Pure.
 */
export function healthTestFromCommand(cmd: string): HealthTest {
  const text = cmd.trim();
  if (!text.startsWith('[')) return ['CMD-SHELL', cmd];
  let words: unknown;
  try {
    words = JSON.parse(text);
  } catch {
    throw new SyscontainerError('EINVAL', `--health-cmd ${JSON.stringify(cmd)} starts with "[" but is not a JSON array of strings`);
  }
  const test = runnableTestSchema.safeParse(['CMD', ...(Array.isArray(words) ? words : [null])]);
  if (!Array.isArray(words) || !test.success) throw new SyscontainerError('EINVAL', `--health-cmd ${JSON.stringify(cmd)}: a JSON array needs at least one word, each a non-empty string`);
  return test.data;
}

/** The health flags as the CLI reads them: strings, unparsed. */
export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  retries?: string;
  startPeriod?: string;
  onFailure?: string;
  noHealthcheck?: boolean;
}

/**
 * The CLI's health flags (`--health-cmd` is a shell command line, as docker's) as options; each
 * bad value is a one-line EINVAL naming its flag. Undefined when no flag was given. Pure.
 */
export function healthOptionsFromFlags(flags: HealthFlags): HealthOptions | undefined {
  const options: HealthOptions = {};
  if (flags.noHealthcheck && flags.cmd !== undefined) throw new SyscontainerError('EUSAGE', '--no-healthcheck and --health-cmd cannot be used together');
  if (flags.noHealthcheck) options.test = ['NONE'];
  if (flags.cmd !== undefined) {
    if (flags.cmd.trim() === '') throw new SyscontainerError('EINVAL', '--health-cmd is empty');
    if (flags.cmd.length > 4096) throw new SyscontainerError('EINVAL', '--health-cmd is longer than 4096 characters');
    options.test = healthTestFromCommand(flags.cmd);
  }
  const duration = (text: string | undefined, flag: string, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDuration(text, flag);
    if (ms < min) throw new SyscontainerError('EINVAL', `${flag} ${JSON.stringify(text)} is shorter than ${formatDuration(min)}`);
    return ms;
  };
  const intervalMs = duration(flags.interval, '--health-interval', limits.minIntervalMs);
  const timeoutMs = duration(flags.timeout, '--health-timeout', limits.minTimeoutMs);
  const startPeriodMs = duration(flags.startPeriod, '--health-start-period', 0);
  if (intervalMs !== undefined) options.intervalMs = intervalMs;
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  if (startPeriodMs !== undefined) options.startPeriodMs = startPeriodMs;
  if (flags.retries !== undefined) {
    const count = /^\d{1,3}$/.test(flags.retries.trim()) ? Number(flags.retries) : Number.NaN;
    if (!(count >= 1 && count <= limits.maxRetries)) {
      throw new SyscontainerError('EINVAL', `--health-retries ${JSON.stringify(flags.retries)} is not a count from 1 to ${limits.maxRetries}`);
    }
    options.retries = count;
  }
  if (flags.onFailure !== undefined) {
    const action = healthOnFailureSchema.safeParse(flags.onFailure);
    if (!action.success) throw new SyscontainerError('EINVAL', `--health-on-failure ${JSON.stringify(flags.onFailure)} is not one of none, restart, stop, kill`);
    options.onFailure = action.data;
  }
  return Object.keys(options).length === 0 ? undefined : options;
}

/**
 * Validates options that came from a program (apply, the REST API) rather than the CLI's
 * flags: one-line EINVAL naming the field. Pure.
 */
export function validateHealthOptions(options: unknown, what = 'health options'): HealthOptions {
  const parsed = healthOptionsSchema.safeParse(options);
  if (!parsed.success) throw new SyscontainerError('EINVAL', `${what}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** The deadline a health-gated update waits for `healthy` by default: start period + retries × interval, at most 5 minutes. Pure. */
export function defaultHealthDeadlineMs(check: Pick<HealthCheck, 'startPeriodMs' | 'retries' | 'intervalMs' | 'timeoutMs'>): number {
  return Math.min(5 * 60_000, check.startPeriodMs + check.retries * check.intervalMs + check.timeoutMs);
}
