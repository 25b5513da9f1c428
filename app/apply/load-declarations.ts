// Reads and validates everything `apply -f` names before anything is changed: the files, their
// documents, every field, the ConfigMaps and env files they use, the host paths they mount, the
// names and the order. The result is either the declared containers or the full list of
// problems (one line each); apply changes nothing when there are errors.
import { readFile, stat } from 'node:fs/promises';
import { parseContainerSpec, validateServiceOptions } from '../../runtime/index.js';
import type { DeclaredContainer, DeclaredExec, DeclarationProblem } from './declared-container.js';
import { originWhere } from './declared-container.js';
import { parseDocuments, type SourceDocument } from './formats/documents.js';
import { configMapSchema, daemonSetSchema, deploymentSchema, podSchema, unsupportedPrefix, unsupportedReasons } from './formats/kube-schema.js';
import { looksLikePaunch, paunchConfigSchema, paunchUnsupportedReasons } from './formats/paunch-schema.js';
import { readSourceFiles, type SourceFile } from './formats/source-files.js';
import { fieldPath, validateWith, type FieldIssue } from './formats/validate.js';
import { afterAnnotation, podContainers, podsAfter, type ConfigMapData, type KubePodInput } from './kube-containers.js';
import { serviceOptionsOf } from './service-options.js';
import { envFilesOf, paunchContainers, type PaunchDeclared, type PaunchExecDeclared } from './paunch-containers.js';
import { sha256Digest } from '../../common/digest.js';

export interface Declarations {
  containers: DeclaredContainer[];
  /** paunch's exec actions, each after the containers it follows. */
  execs: DeclaredExec[];
  /** Content digests (sha256:…) of the regular files the containers mount or read, by path: part of their spec digests. */
  fileDigests: Map<string, string>;
  /** Which format each file was read as. */
  formats: { file: string; format: 'kubernetes' | 'paunch' }[];
  errors: DeclarationProblem[];
  warnings: DeclarationProblem[];
}

export interface LoadOptions {
  ignoreUnsupported?: boolean;
  cwd?: string;
  stdin?: AsyncIterable<Buffer | string>;
}

const maxDigestedFile = 64 << 20;

function documentWhere(doc: SourceDocument, object?: string): string {
  return originWhere({ file: doc.file.display, document: doc.index, documents: doc.count, ...(object !== undefined ? { object } : {}) });
}

function toProblems(where: string, issues: FieldIssue[], prefix = ''): DeclarationProblem[] {
  return issues.map((i) => ({ where, field: `${prefix}${prefix !== '' && i.path.length > 0 && typeof i.path[0] !== 'number' ? '.' : ''}${fieldPath(i.path)}`, message: i.message, unsupported: i.unsupported }));
}

function objectLabel(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as { kind?: unknown; metadata?: { name?: unknown } };
  return typeof v.kind === 'string' && typeof v.metadata?.name === 'string' ? `${v.kind.toLowerCase()}/${v.metadata.name}` : undefined;
}

function isKubeObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'kind' in value && 'apiVersion' in value;
}

/** Reads, parses and validates the files; nothing on the host is changed. */
export async function loadDeclarations(paths: readonly string[], options: LoadOptions = {}): Promise<Declarations> {
  const ignoreUnsupported = options.ignoreUnsupported === true;
  const errors: DeclarationProblem[] = [];
  const warnings: DeclarationProblem[] = [];
  const formats: Declarations['formats'] = [];
  const files: SourceFile[] = await readSourceFiles(paths, { ...(options.cwd !== undefined ? { cwd: options.cwd } : {}), ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });

  const kubeDocuments: SourceDocument[] = [];
  const paunchDocuments: SourceDocument[] = [];
  for (const file of files) {
    const { documents, problems } = parseDocuments(file);
    for (const p of problems) errors.push({ where: p.where, field: '', message: p.message, unsupported: false });
    if (documents.length === 0) continue;
    // The format is decided per file: paunch files hold one map of containers.
    if (documents.every((d) => isKubeObject(d.value))) {
      formats.push({ file: file.display, format: 'kubernetes' });
      kubeDocuments.push(...documents);
    } else if (documents.length === 1 && looksLikePaunch(documents[0]?.value)) {
      formats.push({ file: file.display, format: 'paunch' });
      paunchDocuments.push(...documents);
    } else {
      const bad = documents.find((d) => !isKubeObject(d.value)) ?? documents[0];
      errors.push({
        where: bad === undefined ? file.display : documentWhere(bad),
        field: '',
        message: 'neither a Kubernetes object (apiVersion and kind) nor a paunch config (a map of container names to configs with an image)',
        unsupported: false,
      });
    }
  }

  const schemaOptions = (reasons: Record<string, string>) => ({ ignoreUnsupported, reasons, unsupportedPrefix });
  const report = (where: string, result: { errors: FieldIssue[]; warnings: FieldIssue[] }, prefix = '') => {
    errors.push(...toProblems(where, result.errors, prefix));
    warnings.push(...toProblems(where, result.warnings, prefix));
  };

  // ConfigMaps first: pods anywhere in the set may use them.
  const configMaps = new Map<string, ConfigMapData & { where: string }>();
  const pods: KubePodInput[] = [];
  for (const doc of kubeDocuments) {
    const value = doc.value as { kind: unknown };
    const where = documentWhere(doc, objectLabel(doc.value));
    const origin = { file: doc.file.display, path: doc.file.path, document: doc.index, documents: doc.count };
    switch (value.kind) {
      case 'ConfigMap': {
        const result = validateWith(configMapSchema, doc.value, schemaOptions(unsupportedReasons));
        report(where, result);
        if (result.data === undefined) break;
        const earlier = configMaps.get(result.data.metadata.name);
        if (earlier !== undefined) errors.push({ where, field: 'metadata.name', message: `ConfigMap ${result.data.metadata.name} is defined twice (also in ${earlier.where})`, unsupported: false });
        else configMaps.set(result.data.metadata.name, { data: result.data.data ?? {}, where });
        break;
      }
      case 'Pod': {
        const result = validateWith(podSchema, doc.value, schemaOptions(unsupportedReasons));
        report(where, result);
        if (result.data !== undefined) pods.push({ kind: 'Pod', name: result.data.metadata.name, annotations: result.data.metadata.annotations ?? {}, spec: result.data.spec, specPath: 'spec', origin });
        break;
      }
      case 'DaemonSet':
      case 'Deployment': {
        const schema = value.kind === 'DaemonSet' ? daemonSetSchema : deploymentSchema;
        const result = validateWith(schema, doc.value, schemaOptions(unsupportedReasons));
        report(where, result);
        if (result.data !== undefined) {
          const annotations = { ...(result.data.spec.template.metadata?.annotations ?? {}), ...(result.data.metadata.annotations ?? {}) };
          pods.push({ kind: value.kind, name: result.data.metadata.name, annotations, spec: result.data.spec.template.spec, specPath: 'spec.template.spec', origin });
        }
        break;
      }
      default:
        errors.push({ where, field: 'kind', message: `${JSON.stringify(value.kind)} not supported (Pod, DaemonSet, Deployment or ConfigMap)`, unsupported: false });
    }
  }

  const containers: DeclaredContainer[] = [];
  const podsByName = new Map<string, { pod: KubePodInput; containers: DeclaredContainer[] }>();
  for (const pod of pods) {
    const where = originWhere({ ...pod.origin, object: `${pod.kind.toLowerCase()}/${pod.name}` });
    const earlier = podsByName.get(pod.name);
    if (earlier !== undefined) {
      errors.push({ where, field: 'metadata.name', message: `a pod named ${pod.name} is declared twice (also in ${originWhere({ ...earlier.pod.origin, object: `${earlier.pod.kind.toLowerCase()}/${pod.name}` })})`, unsupported: false });
      continue;
    }
    const result = podContainers(pod, configMaps);
    for (const p of result.problems) (p.unsupported && ignoreUnsupported ? warnings : errors).push(p);
    podsByName.set(pod.name, { pod, containers: result.containers });
    containers.push(...result.containers);
  }
  // syscontainer.io/after: every container of the pod after every container of the pods named.
  for (const { pod, containers: own } of podsByName.values()) {
    const { pods: after, bad } = podsAfter(pod.annotations);
    const where = originWhere({ ...pod.origin, object: `${pod.kind.toLowerCase()}/${pod.name}` });
    const field = `metadata.annotations[${JSON.stringify(afterAnnotation)}]`;
    for (const name of bad) errors.push({ where, field, message: `${JSON.stringify(name)} is not a pod name`, unsupported: false });
    for (const name of after) {
      const other = podsByName.get(name);
      if (other === undefined) errors.push({ where, field, message: `no pod named ${name} in the applied files`, unsupported: false });
      else if (name === pod.name) errors.push({ where, field, message: 'a pod cannot start after itself', unsupported: false });
      else for (const c of own) c.after.push(...other.containers.map((o) => o.name));
    }
  }

  const paunch: PaunchDeclared[] = [];
  const paunchExecs: PaunchExecDeclared[] = [];
  for (const doc of paunchDocuments) {
    const where = documentWhere(doc, 'paunch');
    const result = validateWith(paunchConfigSchema, doc.value, schemaOptions(paunchUnsupportedReasons));
    report(where, result);
    if (result.data === undefined) continue;
    const envFiles = new Map<string, string>();
    for (const file of envFilesOf(result.data, doc.file.path)) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) envFiles.set(file, text);
    }
    const declared = paunchContainers(result.data, { file: doc.file.display, path: doc.file.path, document: doc.index, documents: doc.count }, envFiles);
    for (const p of declared.problems) (p.unsupported && ignoreUnsupported ? warnings : errors).push(p);
    paunch.push(...declared.containers);
    paunchExecs.push(...declared.execs);
  }
  // start_order: after the containers of the next lower order; depends_on: wanted and after.
  const orders = [...new Set(paunch.map((p) => p.startOrder))].sort((a, b) => a - b);
  for (const p of paunch) {
    const lower = orders.filter((o) => o < p.startOrder).pop();
    if (lower !== undefined) p.container.after.push(...paunch.filter((q) => q.startOrder === lower).map((q) => q.container.name));
    for (const dep of p.dependsOn) {
      if (dep === p.container.name) {
        errors.push({ where: originWhere({ ...p.container.origin }), field: `${p.container.origin.field}.depends_on`, message: 'a container cannot depend on itself', unsupported: false });
        continue;
      }
      p.container.wants.push(dep);
      p.container.after.push(dep);
    }
    containers.push(p.container);
  }
  // An exec runs once every container of its start order or a lower one is converged, and its target.
  const execs: DeclaredExec[] = [];
  for (const { exec, startOrder: order } of paunchExecs) {
    exec.after = [...new Set([...paunch.filter((q) => q.startOrder <= order).map((q) => q.container.name), exec.target])].sort();
    execs.push(exec);
  }

  // One name, one declaration; every spec as the runtime will validate it.
  const byName = new Map<string, DeclaredContainer>();
  for (const c of containers) {
    const where = originWhere(c.origin);
    const earlier = byName.get(c.name);
    if (earlier !== undefined) {
      errors.push({ where, field: c.origin.field, message: `container ${c.name} is declared twice (also in ${originWhere(earlier.origin)} ${earlier.origin.field})`, unsupported: false });
      continue;
    }
    byName.set(c.name, c);
    try {
      parseContainerSpec(c.spec, `container ${c.name}`);
      // Probes, restart policy and order as the runtime will take them (a period too short, …).
      validateServiceOptions(serviceOptionsOf(c), c.name);
    } catch (error) {
      errors.push({ where, field: c.origin.field, message: (error as Error).message, unsupported: false });
    }
    c.after = [...new Set(c.after)].sort();
    c.wants = [...new Set(c.wants)].sort();
  }
  const execNames = new Map<string, DeclaredExec>();
  for (const e of execs) {
    const where = originWhere(e.origin);
    const earlier = byName.get(e.name) ?? execNames.get(e.name);
    if (earlier !== undefined) errors.push({ where, field: e.origin.field, message: `${e.name} is declared twice (also in ${originWhere(earlier.origin)} ${earlier.origin.field})`, unsupported: false });
    execNames.set(e.name, e);
    const target = byName.get(e.target);
    if (target !== undefined && target.role !== 'service') errors.push({ where, field: `${e.origin.field}.command[0]`, message: `${e.target} runs to completion (detach: false): nothing runs to exec in`, unsupported: false });
  }
  const cycle = findCycle(containers);
  if (cycle !== undefined) {
    const first = byName.get(cycle[0] as string);
    errors.push({ where: first ? originWhere(first.origin) : 'apply', field: '', message: `the start order has a cycle: ${cycle.join(' → ')}`, unsupported: false });
  }

  const fileDigests = new Map<string, string>();
  for (const c of containers) {
    for (const hostPath of c.hostPaths) {
      const problem = await checkHostPath(hostPath.path, hostPath.type);
      if (problem !== undefined) {
        errors.push({ where: originWhere(c.origin), field: c.origin.field, message: `host path ${hostPath.path}: ${problem}`, unsupported: false });
        continue;
      }
      const stats = await stat(hostPath.path).catch(() => undefined);
      if (stats?.isFile() && stats.size <= maxDigestedFile && !fileDigests.has(hostPath.path)) {
        const content = await readFile(hostPath.path).catch(() => undefined);
        if (content !== undefined) fileDigests.set(hostPath.path, sha256Digest(content));
      }
    }
  }
  return { containers, execs, fileDigests, formats, errors, warnings };
}

async function checkHostPath(file: string, type: DeclaredContainer['hostPaths'][number]['type']): Promise<string | undefined> {
  const stats = await stat(file).catch(() => undefined);
  switch (type) {
    case 'any':
    case 'DirectoryOrCreate':
    case 'FileOrCreate':
      if (type === 'DirectoryOrCreate' && stats !== undefined && !stats.isDirectory()) return 'exists and is not a directory';
      if (type === 'FileOrCreate' && stats !== undefined && !stats.isFile()) return 'exists and is not a file';
      return undefined;
    case 'Directory':
      return stats?.isDirectory() ? undefined : stats === undefined ? 'does not exist (type Directory)' : 'is not a directory';
    case 'File':
      return stats?.isFile() ? undefined : stats === undefined ? 'does not exist (type File)' : 'is not a regular file';
    case 'Socket':
      return stats?.isSocket() ? undefined : 'is not a socket';
    case 'CharDevice':
      return stats?.isCharacterDevice() ? undefined : 'is not a character device';
    case 'BlockDevice':
      return stats?.isBlockDevice() ? undefined : 'is not a block device';
  }
}

/** A cycle in the after/requires/wants graph (names in order), or undefined. Pure. */
export function findCycle(containers: readonly DeclaredContainer[]): string[] | undefined {
  const edges = new Map(containers.map((c) => [c.name, [...new Set([...c.after, ...c.requires])]]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done' || !edges.has(name)) return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges.get(name) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const c of containers) {
    const found = visit(c.name);
    if (found) return found;
  }
  return undefined;
}

/** The order to start declared containers in: each after what it requires, wants and comes after. Pure. */
export function startOrder(containers: readonly DeclaredContainer[]): DeclaredContainer[] {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const out: DeclaredContainer[] = [];
  const placed = new Set<string>();
  const place = (c: DeclaredContainer, depth: number) => {
    if (placed.has(c.name) || depth > containers.length) return;
    for (const dep of [...c.requires, ...c.after]) {
      const d = byName.get(dep);
      if (d !== undefined) place(d, depth + 1);
    }
    if (!placed.has(c.name)) {
      placed.add(c.name);
      out.push(c);
    }
  };
  for (const c of containers) place(c, 0);
  return out;
}
