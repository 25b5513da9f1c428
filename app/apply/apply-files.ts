// apply, delete -f, and apply --delete: the operations. Read and validate every file, pull what
// is needed, plan against what this config id owns, then converge through the same install,
// update and uninstall the CLI offers. Nothing changes when the files do not validate or the
// plan has an error (a name clash, an unknown dependency); one config id at a time (a lock).
import path from 'node:path';
import { DeploymentStore, ensurePod, removePod, supervisorOf, type ContainerSpec } from '../../runtime/index.js';
import { SyscontainerError } from '../../common/errors.js';
import { withLock } from '../../common/file-lock.js';
import { pullImage } from '../../store/index.js';
import { runtimeFor, sourceSettings, type AppContext, type OperationEvents } from '../context.js';
import { installImage } from '../install-image.js';
import { updateContainer } from '../update.js';
import { execInContainer, uninstallContainer, startContainer } from '../containers.js';
import { converge, type ConvergeBackend } from './converge.js';
import type { DeclaredContainer, DeclarationProblem } from './declared-container.js';
import { defaultConfigId } from './formats/source-files.js';
import { loadDeclarations, startOrder } from './load-declarations.js';
import { configIdPattern, ownerRecordSchema, type OwnerRecord } from './owner-record.js';
import { makePlan, type InstalledContainer, type Plan } from './plan.js';
import { closingLines, outcomeLine, planLines, type StepOutcome } from './plan-output.js';
import { specDigest } from './spec-digest.js';
import { ensureHostPaths } from './host-paths.js';
import { serviceOptionsOf } from './service-options.js';

export interface ApplyInput {
  files: string[];
  configId?: string;
  dryRun?: boolean;
  /** Remove owned containers no longer declared; default true (paunch's apply did). */
  prune?: boolean;
  /** Pull every image first (a moved tag is seen). */
  pull?: boolean;
  ignoreUnsupported?: boolean;
  /** Grant what the files ask for beyond the default confinement. */
  privileged?: boolean;
  /** For `-`. */
  stdin?: AsyncIterable<Buffer | string>;
  cwd?: string;
}

export interface ApplyEvents extends OperationEvents {
  /** Each result line as it is known (`container/web-server created`). */
  onLine?: (line: string) => void;
  /** Warnings (unsupported fields with --ignore-unsupported). */
  onWarning?: (line: string) => void;
}

export interface ApplyResult {
  configId: string;
  /** Problems in the files or the plan: nothing was changed. */
  errors: DeclarationProblem[];
  outcomes: StepOutcome[];
  failed: number;
}

/** Owner records of every installed container (undefined configId: not made by apply). */
export async function ownedContainers(app: AppContext): Promise<(InstalledContainer & { owner?: OwnerRecord })[]> {
  const deployments = new DeploymentStore(app.settings.root);
  const out: (InstalledContainer & { owner?: OwnerRecord })[] = [];
  for (const name of await deployments.names()) {
    const active = await deployments.active(name);
    const parsed = ownerRecordSchema.safeParse(active?.info.owner);
    if (!parsed.success) out.push({ name });
    else out.push({ name, configId: parsed.data.configId, specDigest: parsed.data.specDigest, ...(parsed.data.pod ? { pod: parsed.data.pod } : {}), owner: parsed.data });
  }
  return out;
}

function applyLock(app: AppContext, configId: string): string {
  return path.join(app.settings.root, '.storage', 'locks', `apply-${configId}`);
}

function checkConfigId(configId: string | undefined): string {
  if (configId === undefined) throw new SyscontainerError('EUSAGE', 'a config id is needed when reading stdin', { hint: 'give --config-id ID' });
  if (!configIdPattern.test(configId)) throw new SyscontainerError('EINVAL', `config id ${JSON.stringify(configId)}: 1-128 letters, digits, "_", "." or "-", not starting with "." or "-"`);
  return configId;
}

async function backendFor(app: AppContext, input: ApplyInput, events: ApplyEvents): Promise<ConvergeBackend> {
  const ctx = await runtimeFor(app, events);
  const installOptions = (c: DeclaredContainer, owner: OwnerRecord) => ({
    containerSpec: c.spec as ContainerSpec,
    owner: owner as unknown as Record<string, unknown>,
    service: serviceOptionsOf(c),
    ...(input.privileged === true ? { privileged: true } : {}),
  });
  return {
    ensurePod: (pod, options) => ensurePod(ctx, pod, options),
    removePod: (pod) => removePod(ctx, pod),
    ensureHostPaths: (paths) => ensureHostPaths(paths),
    create: async (c, owner) => {
      await installImage(app, { name: c.name, image: c.image, system: true, pull: false, ...installOptions(c, owner) }, events);
    },
    update: async (c, owner) => {
      await updateContainer(app, { name: c.name, rebase: c.image, pull: false, force: true, replaceService: true, ...installOptions(c, owner) }, events);
    },
    remove: (name) => uninstallContainer(app, { name }, events),
    isUp: async (name) => {
      const active = await new DeploymentStore(ctx.root).active(name);
      if (active === undefined) return false;
      const state = (await (await supervisorOf(ctx)).status(name, active.dir)).state;
      return state === 'running' || state === 'exited';
    },
    start: (name) => startContainer(app, { name }, events),
    exec: async (e) => {
      const result = await execInContainer(app, { name: e.target, command: e.command, ...(e.user !== undefined ? { user: e.user } : {}) });
      if (!e.exitCodes.includes(result.exitCode)) {
        const output = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-3).join(' | ');
        throw new SyscontainerError('ERUNTIME', `${e.command.join(' ')} in ${e.target} exited with ${result.exitCode}${output === '' ? '' : `: ${output}`}`);
      }
    },
  };
}

/** Pulls what needs pulling and returns each declared image's manifest digest; failures by image. */
async function resolveImages(app: AppContext, containers: readonly DeclaredContainer[], input: ApplyInput, events: ApplyEvents): Promise<{ digests: Map<string, string>; failures: Map<string, string> }> {
  const digests = new Map<string, string>();
  const failures = new Map<string, string>();
  const images = new Map<string, 'always' | 'missing' | 'never'>();
  for (const c of containers) {
    const wanted = input.pull === true && c.pull !== 'never' ? 'always' : c.pull;
    const earlier = images.get(c.image);
    images.set(c.image, earlier === 'always' || wanted === 'always' ? 'always' : earlier === 'missing' || wanted === 'missing' ? 'missing' : 'never');
  }
  for (const [image, policy] of images) {
    try {
      let stored = await app.store.getImage(image);
      if (!input.dryRun && (policy === 'always' || (stored === undefined && policy === 'missing'))) {
        events.log?.(`pulling ${image}`);
        await pullImage(app.store, image, sourceSettings(app), events.onPull ? { onEvent: events.onPull } : {});
        stored = await app.store.getImage(image);
      }
      if (stored !== undefined) digests.set(image, stored.manifestDigest);
      else if (input.dryRun) digests.set(image, 'not-pulled');
      else failures.set(image, `image ${image} is not in the store${policy === 'never' ? ' (imagePullPolicy: Never)' : ''}`);
    } catch (error) {
      failures.set(image, error instanceof Error ? error.message : String(error));
    }
  }
  return { digests, failures };
}

/** `apply -f PATH...`: see the README. Never throws for one container's failure; errors in the files come back in `errors`. */
export async function applyFiles(app: AppContext, input: ApplyInput, events: ApplyEvents = {}): Promise<ApplyResult> {
  const configId = checkConfigId(input.configId ?? defaultConfigId(input.files));
  const declarations = await loadDeclarations(input.files, {
    ...(input.ignoreUnsupported ? { ignoreUnsupported: true } : {}),
    ...(input.cwd !== undefined ? { cwd: input.cwd } : {}),
    ...(input.stdin !== undefined ? { stdin: input.stdin } : {}),
  });
  for (const w of declarations.warnings) events.onWarning?.(`${w.where}: ${w.field === '' ? '' : `${w.field}: `}${w.message}`);
  if (declarations.errors.length > 0) return { configId, errors: declarations.errors, outcomes: [], failed: 0 };
  return withLock(applyLock(app, configId), { mode: 'exclusive', what: `config ${configId}`, onWait: (m) => events.log?.(m) }, async () => {
    const ordered = startOrder(declarations.containers);
    const { digests: manifestDigests, failures } = await resolveImages(app, ordered, input, events);
    const installed = await ownedContainers(app);
    const digests = new Map(ordered.map((c) => [c.name, specDigest(c, manifestDigests.get(c.image) ?? 'unresolved', declarations.fileDigests)]));
    const plan = makePlan({ configId, declared: ordered, digests, installed, prune: input.prune !== false, execs: declarations.execs });
    if (plan.errors.length > 0) return { configId, errors: plan.errors, outcomes: [], failed: 0 };
    if (input.dryRun) {
      for (const line of planLines(plan)) events.onLine?.(line);
      return { configId, errors: [], outcomes: [], failed: 0 };
    }
    return runPlan(app, plan, input, events, { installed, failures, source: declarations.formats.map((f) => f.file), declared: ordered });
  });
}

async function runPlan(
  app: AppContext,
  plan: Plan,
  input: ApplyInput,
  events: ApplyEvents,
  known: { installed: InstalledContainer[]; failures: Map<string, string>; source: string[]; declared: DeclaredContainer[] },
): Promise<ApplyResult> {
  const pods = new Map<string, { hostNetwork: boolean; volumes: string[] }>();
  for (const c of known.declared) {
    const pod = c.spec.pod;
    if (pod === undefined) continue;
    const entry = pods.get(pod) ?? { hostNetwork: c.spec.network === 'host', volumes: [] };
    for (const m of c.spec.mounts ?? []) if (m.type === 'pod-volume' && !entry.volumes.includes(m.volume)) entry.volumes.push(m.volume);
    pods.set(pod, entry);
  }
  const podsToRemove = [...new Set(known.installed.filter((c) => c.configId === plan.configId && c.pod !== undefined && !pods.has(c.pod)).map((c) => c.pod as string))];
  // A container whose image could not be pulled fails here; the others go on.
  const failedEarly: StepOutcome[] = [];
  const steps = plan.steps.filter((s) => {
    const failure = s.declared !== undefined && s.action !== 'unchanged' ? known.failures.get(s.declared.image) : undefined;
    if (failure !== undefined) failedEarly.push({ step: s, ok: false, error: failure });
    return failure === undefined;
  });
  for (const outcome of failedEarly) events.onLine?.(outcomeLine(outcome));
  const outcomes = await converge({
    plan: { ...plan, steps },
    backend: await backendFor(app, input, events),
    source: known.source,
    pods,
    podsToRemove,
    onOutcome: (o) => events.onLine?.(outcomeLine(o)),
  });
  const all = [...failedEarly, ...outcomes];
  for (const line of closingLines(all)) events.onLine?.(line);
  return { configId: plan.configId, errors: [], outcomes: all, failed: all.filter((o) => o.ok !== true).length };
}

/** `delete -f PATH` / `apply --config-id ID --delete`: removes every container the config id owns, and its pods. */
export async function deleteConfig(app: AppContext, input: { configId?: string; files?: string[] }, events: ApplyEvents = {}): Promise<ApplyResult> {
  const configId = checkConfigId(input.configId ?? defaultConfigId(input.files ?? []));
  return withLock(applyLock(app, configId), { mode: 'exclusive', what: `config ${configId}`, onWait: (m) => events.log?.(m) }, async () => {
    const installed = await ownedContainers(app);
    const plan = makePlan({ configId, declared: [], digests: new Map(), installed, prune: true });
    if (plan.steps.length === 0) throw new SyscontainerError('ENOTFOUND', `config id ${configId} owns no container`);
    return runPlan(app, plan, { files: [] }, events, { installed, failures: new Map(), source: [], declared: [] });
  });
}
