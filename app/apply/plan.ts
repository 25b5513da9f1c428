// What apply will do, container by container, decided before anything changes: create what is
// declared and missing, update what is owned and whose spec digest differs, leave the rest, and
// remove what this config id owns and no longer declares (unless --no-prune). A container of
// the same name that this config id does not own is never touched: that is an error.
import type { DeclaredContainer, DeclaredExec, DeclarationProblem } from './declared-container.js';
import { originWhere } from './declared-container.js';

/** Who made an installed container, from its deployment's record. */
export interface InstalledContainer {
  name: string;
  /** Undefined for a container not made by apply (installed by hand). */
  configId?: string;
  specDigest?: string;
  pod?: string;
  /** Only a slot left by a killed command (no active deployment): made again, or cleared by remove. */
  debris?: boolean;
}

/** exec: paunch's action exec, run on every apply (it is not a container: nothing to compare). */
export type PlanAction = 'create' | 'update' | 'unchanged' | 'remove' | 'exec';

export interface PlanStep {
  name: string;
  action: PlanAction;
  /** Undefined for remove and exec. */
  declared?: DeclaredContainer;
  /** For exec. */
  exec?: DeclaredExec;
  specDigest?: string;
  /** The pod a step belongs to (kubernetes), for the pod/NAME lines. */
  pod?: string;
}

export interface Plan {
  configId: string;
  steps: PlanStep[];
  errors: DeclarationProblem[];
}

/**
 * The plan for `declared` (in start order) against what is installed. `digests` maps each
 * declared name to its spec digest. Pure.
 */
export function makePlan(input: {
  configId: string;
  declared: readonly DeclaredContainer[];
  digests: ReadonlyMap<string, string>;
  installed: readonly InstalledContainer[];
  prune: boolean;
  execs?: readonly DeclaredExec[];
}): Plan {
  const installed = new Map(input.installed.map((c) => [c.name, c]));
  const declaredNames = new Set(input.declared.map((c) => c.name));
  const errors: DeclarationProblem[] = [];
  const steps: PlanStep[] = [];
  for (const c of input.declared) {
    const digest = input.digests.get(c.name) as string;
    const existing = installed.get(c.name);
    const pod = c.spec.pod;
    for (const dep of c.wants) {
      if (!declaredNames.has(dep) && !installed.has(dep)) {
        errors.push({ where: originWhere(c.origin), field: `${c.origin.field}.depends_on`, message: `no container named ${dep} is declared or installed`, unsupported: false });
      }
    }
    if (existing === undefined || (existing.debris === true && existing.configId === input.configId)) {
      steps.push({ name: c.name, action: 'create', declared: c, specDigest: digest, ...(pod ? { pod } : {}) });
    } else if (existing.configId !== input.configId) {
      const owner = existing.configId === undefined ? 'installed by hand (not by apply)' : `owned by config id ${existing.configId}`;
      errors.push({ where: originWhere(c.origin), field: c.origin.field, message: `container ${c.name} already exists, ${owner}: not touched`, unsupported: false });
    } else {
      steps.push({ name: c.name, action: existing.specDigest === digest ? 'unchanged' : 'update', declared: c, specDigest: digest, ...(pod ? { pod } : {}) });
    }
  }
  // Each exec right after the last step it comes after, so what follows it in start order waits for it.
  for (const e of input.execs ?? []) {
    if (!declaredNames.has(e.target) && !installed.has(e.target)) {
      errors.push({ where: originWhere(e.origin), field: `${e.origin.field}.command[0]`, message: `no container named ${e.target} is declared or installed to exec in`, unsupported: false });
      continue;
    }
    const last = steps.reduce((at, s, i) => (e.after.includes(s.name) ? i : at), -1);
    steps.splice(last + 1, 0, { name: e.name, action: 'exec', exec: e });
  }
  if (input.prune) {
    // Removed in reverse start order of what they were: dependants first is what systemd does too.
    for (const c of [...input.installed].reverse()) {
      if (c.configId === input.configId && !declaredNames.has(c.name)) steps.push({ name: c.name, action: 'remove', ...(c.pod ? { pod: c.pod } : {}) });
    }
  }
  return { configId: input.configId, steps, errors };
}
