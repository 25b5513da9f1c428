// How a plan and its outcome read: one line per container (`container/etcd-server created`),
// one per pod whose containers changed (`pod/etcd configured`), then a summary. kubectl's words:
// created, configured, unchanged; paunch's prune is `pruned`.
import type { Plan, PlanAction, PlanStep } from './plan.js';

export type StepOutcome = { step: PlanStep; ok: true } | { step: PlanStep; ok: false; error: string } | { step: PlanStep; ok: 'skipped'; reason: string };

const done: Record<PlanAction, string> = { create: 'created', update: 'configured', unchanged: 'unchanged', remove: 'pruned', exec: 'ran' };
const planned: Record<PlanAction, string> = { create: 'created (dry run)', update: 'configured (dry run)', unchanged: 'unchanged', remove: 'pruned (dry run)', exec: 'runs (dry run)' };

/** `container/NAME`, or `exec/NAME` for paunch's exec actions. */
function subject(step: PlanStep): string {
  return `${step.action === 'exec' ? 'exec' : 'container'}/${step.name}`;
}

function podLines(steps: readonly { step: PlanStep; ok: boolean | 'skipped' }[], words: Record<PlanAction, string>): string[] {
  const pods = new Map<string, { step: PlanStep; ok: boolean | 'skipped' }[]>();
  for (const s of steps) if (s.step.pod !== undefined) pods.set(s.step.pod, [...(pods.get(s.step.pod) ?? []), s]);
  const lines: string[] = [];
  for (const [pod, list] of pods) {
    if (list.some((s) => s.ok !== true)) continue;
    const actions = new Set(list.map((s) => s.step.action));
    // All the same: that; any mix (one container added to a running pod): the pod is configured.
    const action: PlanAction = actions.size === 1 ? [...actions][0] as PlanAction : 'update';
    lines.push(`pod/${pod} ${words[action]}`);
  }
  return lines;
}

/** The lines `apply --dry-run` prints. Pure. */
export function planLines(plan: Plan): string[] {
  const lines = plan.steps.map((s) => `${subject(s)} ${planned[s.action]}`);
  lines.push(...podLines(plan.steps.map((step) => ({ step, ok: true })), planned));
  lines.push(summary(plan.steps.map((step) => ({ step, ok: true as const }))));
  return lines;
}

/** The line for one finished step. Pure. */
export function outcomeLine(outcome: StepOutcome): string {
  if (outcome.ok === true) return `${subject(outcome.step)} ${done[outcome.step.action]}`;
  if (outcome.ok === 'skipped') return `${subject(outcome.step)} not ${done[outcome.step.action]}: ${outcome.reason}`;
  return `${subject(outcome.step)} failed: ${outcome.error}`;
}

/** The pod lines and the summary after every step ran. Pure. */
export function closingLines(outcomes: readonly StepOutcome[]): string[] {
  return [...podLines(outcomes, done), summary(outcomes)];
}

function summary(outcomes: readonly StepOutcome[]): string {
  const count = (action: PlanAction) => outcomes.filter((o) => o.ok === true && o.step.action === action).length;
  const failed = outcomes.filter((o) => o.ok !== true);
  const parts = [`${count('create')} created`, `${count('update')} configured`, `${count('unchanged')} unchanged`, `${count('remove')} pruned`];
  if (outcomes.some((o) => o.step.action === 'exec')) parts.push(`${count('exec')} exec${count('exec') === 1 ? '' : 's'} ran`);
  if (failed.length > 0) parts.push(`${failed.length} failed (${failed.map((o) => o.step.name).join(', ')})`);
  return parts.join(', ');
}
