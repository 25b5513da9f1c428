// The health of a running container, as `healthcheck run` leaves it: status, the failing
// streak and the last results, in DESTDIR/health.json of the active deployment (each
// deployment has its own, so an update starts `starting` and a rollback does not inherit the
// new one's failures). Written through a temporary name and renamed: a reader never sees half
// a file. Kept per container start: a restarted container starts `starting` again.
// `healthcheck run` starts every interval on every host: this module loads nothing but node:
// (no zod), and checks what it reads by hand.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';
const statuses: readonly string[] = ['starting', 'healthy', 'unhealthy'];

/** How much of a check's output is kept per result, and how many results. */
export const healthLogLimits = { outputBytes: 4096, results: 5, changes: 10 } as const;

/** A change of status, when the result that made it ended: what health_status events are made from. */
export interface HealthChange {
  status: HealthStatus;
  at: string;
}

export interface HealthResult {
  /** The check's exit code; -1 when it was killed after its timeout. */
  exitCode: number;
  start: string;
  end: string;
  /** stdout then stderr, cut to 4 KiB. */
  output: string;
}

export interface HealthState {
  version: 1;
  status: HealthStatus;
  failingStreak: number;
  /** Identifies the container start these results belong to (runc's `created` time). */
  containerStart?: string;
  log: HealthResult[];
  /**
   * The last changes of status (healthy/unhealthy), oldest first, kept across container starts:
   * a reader that looks now and then still sees a change that flipped back in between.
   */
  changes?: HealthChange[];
  /** The last on-failure action taken, for status: what, when, with the failing output. */
  lastAction?: { action: string; at: string; output: string };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

function isResult(v: unknown): v is HealthResult {
  const r = v as HealthResult;
  return typeof v === 'object' && v !== null && Number.isInteger(r.exitCode) && isString(r.start) && isString(r.end) && isString(r.output);
}

function isChange(v: unknown): v is HealthChange {
  const c = v as HealthChange;
  return typeof v === 'object' && v !== null && statuses.includes(c.status) && isString(c.at);
}

/** `value` when it is a well-formed state, else undefined. Pure. */
export function parseHealthState(value: unknown): HealthState | undefined {
  const s = value as HealthState;
  if (typeof value !== 'object' || value === null || s.version !== 1 || !statuses.includes(s.status) || !isCount(s.failingStreak)) return undefined;
  if (s.containerStart !== undefined && !isString(s.containerStart)) return undefined;
  if (!Array.isArray(s.log) || s.log.length > healthLogLimits.results || !s.log.every(isResult)) return undefined;
  if (s.changes !== undefined && (!Array.isArray(s.changes) || s.changes.length > healthLogLimits.changes || !s.changes.every(isChange))) return undefined;
  const a = s.lastAction;
  if (a !== undefined && (typeof a !== 'object' || a === null || !isString(a.action) || !isString(a.at) || !isString(a.output))) return undefined;
  return s;
}

export const healthStateFile = (deploymentDir: string) => path.join(deploymentDir, 'health.json');

export function initialHealthState(containerStart?: string): HealthState {
  return { version: 1, status: 'starting', failingStreak: 0, ...(containerStart !== undefined ? { containerStart } : {}), log: [] };
}

/** `text` cut to at most `bytes` bytes of UTF-8, never inside a character. Pure. */
export function cutOutput(text: string, bytes: number = healthLogLimits.outputBytes): string {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= bytes) return text;
  let end = bytes;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((buffer[end] as number) & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end).toString('utf8');
}

/** The state, or undefined when the file is missing or unreadable (never fatal: the next check writes it afresh). */
export async function readHealthState(deploymentDir: string): Promise<HealthState | undefined> {
  let text: string;
  try {
    text = await readFile(healthStateFile(deploymentDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parseHealthState(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export async function writeHealthState(deploymentDir: string, state: HealthState): Promise<void> {
  await writeFileAtomic(healthStateFile(deploymentDir), `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

export interface RecordOptions {
  retries: number;
  /** Whether the container is still inside its start period: failures do not count then. */
  inStartPeriod: boolean;
  /** The current container start; a different one than the state's starts afresh (log kept). */
  containerStart?: string;
}

/**
 * The state after one more result, as docker counts: a success makes it healthy and resets
 * the streak; a failure inside the start period of a container never healthy yet does not
 * count; otherwise the streak grows and at `retries` the status turns unhealthy and the
 * on-failure action is due. Pure.
 */
export function recordHealthResult(previous: HealthState | undefined, result: HealthResult, options: RecordOptions): { state: HealthState; actionDue: boolean } {
  let state: HealthState = previous ?? initialHealthState(options.containerStart);
  if (options.containerStart !== undefined && state.containerStart !== options.containerStart) {
    state = { ...initialHealthState(options.containerStart), log: state.log, ...(state.changes !== undefined ? { changes: state.changes } : {}) };
  }
  const entry = { ...result, output: cutOutput(result.output) };
  const log = [...state.log, entry].slice(-healthLogLimits.results);
  const changed = (next: HealthState): HealthState =>
    next.status === state.status ? next : { ...next, changes: [...(state.changes ?? []), { status: next.status, at: result.end }].slice(-healthLogLimits.changes) };
  if (result.exitCode === 0) return { state: changed({ ...state, status: 'healthy', failingStreak: 0, log }), actionDue: false };
  if (options.inStartPeriod && state.status === 'starting') return { state: { ...state, log }, actionDue: false };
  const failingStreak = state.failingStreak + 1;
  const due = failingStreak >= options.retries;
  return { state: changed({ ...state, status: due ? 'unhealthy' : state.status, failingStreak, log }), actionDue: due };
}

/** The state after the on-failure action ran: the streak starts again (the status stays until the next result). Pure. */
export function recordHealthAction(state: HealthState, action: string, at: Date): HealthState {
  const output = state.log.at(-1)?.output ?? '';
  return { ...state, failingStreak: 0, lastAction: { action, at: at.toISOString(), output: cutOutput(output, 512) } };
}
