// What `healthcheck run` prints: shared by the light entry the timer starts and the full CLI.
import type { HealthRunOutcome } from '../app/index.js';

/** Lines for stdout: the check's output when it failed, then the status. */
export function healthReport(name: string, outcome: HealthRunOutcome): string[] {
  const lines: string[] = [];
  const { state, result } = outcome;
  if (result !== undefined && result.exitCode !== 0 && result.output.trim() !== '') lines.push(result.output.trimEnd());
  if (state === undefined) return lines;
  const streak = state.failingStreak > 0 ? ` (failing streak ${state.failingStreak})` : '';
  lines.push(`${name}: ${state.status}${streak}${outcome.action === undefined ? '' : `; ${outcome.action}`}`);
  return lines;
}
