// Converges the host onto a plan: steps run in start order; a container whose required
// container failed is skipped (it could not start), one that failed otherwise does not stop the
// others. Every step is one of the operations the CLI offers (install, update through the other
// slot, uninstall), each crash-safe on its own, so a killed apply is finished by the next one:
// a container made but not started is started, one half-made is made again.
import type { DeclaredContainer, DeclaredExec } from './declared-container.js';
import type { OwnerRecord } from './owner-record.js';
import type { Plan, PlanStep } from './plan.js';
import type { StepOutcome } from './plan-output.js';

/** What converge needs from the layers below; the application layer gives the real ones. */
export interface ConvergeBackend {
  /** Makes the pod's namespace and volume directories (idempotent). */
  ensurePod(pod: string, options: { hostNetwork: boolean; volumes: string[] }): Promise<void>;
  /** Removes the pod's namespace, unit and volumes (when none of its containers is left). */
  removePod(pod: string): Promise<void>;
  /** Makes DirectoryOrCreate / FileOrCreate host paths. */
  ensureHostPaths(paths: DeclaredContainer['hostPaths']): Promise<void>;
  create(container: DeclaredContainer, owner: OwnerRecord): Promise<void>;
  update(container: DeclaredContainer, owner: OwnerRecord): Promise<void>;
  remove(name: string): Promise<void>;
  /** Whether a service container runs (or a oneshot ran to success). */
  isUp(name: string): Promise<boolean>;
  start(name: string): Promise<void>;
  /** Runs paunch's exec action in its target; throws when it exits with a code not in exitCodes. */
  exec(exec: DeclaredExec): Promise<void>;
}

function ownerOf(plan: Plan, step: PlanStep, source: string[]): OwnerRecord {
  const declared = step.declared as DeclaredContainer;
  const { origin: _origin, ...content } = declared;
  const pod = declared.spec.pod;
  return {
    configId: plan.configId,
    source,
    specDigest: step.specDigest as string,
    ...(pod !== undefined ? { pod, podContainer: declared.name.slice(pod.length + 1) } : {}),
    declared: content as unknown as Record<string, unknown>,
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the plan's steps, reporting each outcome as it is known (`onOutcome`). `podsLeft` says
 * which pods still have containers after the plan (the others are removed once their
 * containers are). Never throws for one container's failure.
 */
export async function converge(input: {
  plan: Plan;
  backend: ConvergeBackend;
  source: string[];
  /** Pods declared by the applied files, with what they need made. */
  pods: Map<string, { hostNetwork: boolean; volumes: string[] }>;
  /** Pods of removed containers that no declared container uses any more. */
  podsToRemove: string[];
  onOutcome?: (outcome: StepOutcome) => void;
}): Promise<StepOutcome[]> {
  const { plan, backend } = input;
  const outcomes: StepOutcome[] = [];
  const failed = new Map<string, string>();
  const report = (outcome: StepOutcome) => {
    outcomes.push(outcome);
    if (outcome.ok !== true) failed.set(outcome.step.name, outcome.ok === false ? outcome.error : outcome.reason);
    input.onOutcome?.(outcome);
  };
  const podsReady = new Map<string, string | undefined>();
  const ensurePod = async (pod: string): Promise<string | undefined> => {
    if (!podsReady.has(pod)) {
      const wanted = input.pods.get(pod) ?? { hostNetwork: true, volumes: [] };
      podsReady.set(pod, await backend.ensurePod(pod, wanted).then(() => undefined, (error: unknown) => `pod ${pod}: ${message(error)}`));
    }
    return podsReady.get(pod);
  };

  const dependants = (name: string) => plan.steps.filter((s) => s.declared?.requires.includes(name)).map((s) => s.name);
  const anyDependantDown = async (name: string): Promise<boolean> => {
    for (const d of dependants(name)) if (!(await backend.isUp(d))) return true;
    return false;
  };

  // Removals first, dependants before what they depend on: a name freed may be declared again.
  for (const step of plan.steps.filter((s) => s.action === 'remove')) {
    try {
      await backend.remove(step.name);
      report({ step, ok: true });
    } catch (error) {
      report({ step, ok: false, error: message(error) });
    }
  }
  for (const step of plan.steps.filter((s) => s.action !== 'remove')) {
    if (step.exec !== undefined) {
      const blocker = step.exec.target;
      if (failed.has(blocker)) report({ step, ok: 'skipped', reason: `it runs in ${blocker}, which failed` });
      else await backend.exec(step.exec).then(() => report({ step, ok: true }), (error: unknown) => report({ step, ok: false, error: message(error) }));
      continue;
    }
    const declared = step.declared as DeclaredContainer;
    const blocker = declared.requires.find((r) => failed.has(r));
    if (blocker !== undefined) {
      report({ step, ok: 'skipped', reason: `it needs ${blocker}, which failed` });
      continue;
    }
    try {
      if (step.action === 'unchanged') {
        // Nothing to change; a container a killed apply made but did not start is started. A
        // oneshot (init container) that is not up runs again only when something that requires
        // it is not up either: the pod is starting, as Kubernetes runs init containers then.
        if (!(await backend.isUp(step.name)) && (declared.role !== 'oneshot' || (await anyDependantDown(step.name)))) {
          await backend.start(step.name);
        }
        report({ step, ok: true });
        continue;
      }
      const pod = declared.spec.pod;
      if (pod !== undefined) {
        const problem = await ensurePod(pod);
        if (problem !== undefined) throw new Error(problem);
      }
      await backend.ensureHostPaths(declared.hostPaths);
      const owner = ownerOf(plan, step, input.source);
      if (step.action === 'create') await backend.create(declared, owner);
      else await backend.update(declared, owner);
      // update restarts only what was running; a container a killed command left stopped
      // (between stopping the old deployment and switching) is declared to run: start it.
      if (declared.role === 'service' && !(await backend.isUp(step.name))) await backend.start(step.name);
      report({ step, ok: true });
    } catch (error) {
      report({ step, ok: false, error: message(error) });
    }
  }
  for (const pod of input.podsToRemove) {
    await backend.removePod(pod).catch(() => undefined);
  }
  return outcomes;
}
