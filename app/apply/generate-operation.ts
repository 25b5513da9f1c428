// generate kube: the Kubernetes YAML of installed containers. A container apply made is
// written from the declaration it keeps (applying the output gives the same spec digest); one
// installed by hand from what it runs with: its image, its container spec, the host paths its
// config.json binds and the host namespaces it shares.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DeploymentStore, type ContainerMount, type ContainerSpec, type DeploymentInfo } from '../../runtime/index.js';
import { SyscontainerError } from '../../common/errors.js';
import type { AppContext } from '../context.js';
import type { DeclaredCheck, DeclaredContainer } from './declared-container.js';
import { generateKube, type GeneratedKind, type GeneratedPod, type GenerateResult } from './generate-kube.js';
import { ownerRecordSchema } from './owner-record.js';

// Mounts every container gets (render's defaults): not the user's.
const defaultBindSources = new Set(['/etc/resolv.conf', '/etc/hosts']);

async function fromDeployment(dir: string, info: DeploymentInfo): Promise<Omit<DeclaredContainer, 'origin'>> {
  const spec: ContainerSpec = { ...(info.containerSpec ?? {}) };
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8').catch(() => '{}')) as {
    mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
    linux?: { namespaces?: { type: string }[] };
  };
  if (spec.mounts === undefined) {
    const mounts: ContainerMount[] = [];
    for (const m of config.mounts ?? []) {
      const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
      if (!bind || m.source === undefined || !m.source.startsWith('/') || defaultBindSources.has(m.source)) continue;
      mounts.push({ type: 'bind', source: m.source, destination: m.destination, ...((m.options ?? []).includes('ro') ? { readOnly: true } : {}) });
    }
    if (mounts.length > 0) spec.mounts = mounts;
  }
  const namespaces = new Set((config.linux?.namespaces ?? []).map((n) => n.type));
  if (!namespaces.has('pid')) spec.hostPid = true;
  if (!namespaces.has('ipc')) spec.hostIpc = true;
  if (spec.network === undefined && !namespaces.has('network')) spec.network = 'host';
  if (info.privileges.some((p) => p.startsWith('capability ')) && spec.capabilities === undefined) {
    spec.capabilities = { add: info.privileges.filter((p) => p.startsWith('capability ')).map((p) => p.slice('capability '.length)) };
  }
  const check = info.healthcheck === undefined ? undefined : probeOf(info.healthcheck);
  const restart = info.service?.restart;
  return {
    name: info.name,
    image: info.image,
    pull: 'missing',
    role: 'service',
    spec,
    ...(restart !== undefined ? { restart } : {}),
    // A check that acts (restarts or stops) is a liveness probe; one that only reports, readiness.
    ...(check !== undefined ? (info.healthcheck?.onFailure === 'none' ? { readiness: check } : { liveness: check }) : {}),
    requires: [],
    wants: [],
    after: [],
    hostPaths: (spec.mounts ?? []).flatMap((m) => (m.type === 'bind' ? [{ path: m.source, type: 'any' as const }] : [])),
  };
}

/** The health check in effect as a probe (durations rounded up to whole seconds, Kubernetes' unit). */
function probeOf(check: NonNullable<DeploymentInfo['healthcheck']>): DeclaredCheck {
  const [kind, ...rest] = check.test;
  let probe: DeclaredCheck['probe'];
  if (kind === 'CMD') probe = { type: 'exec', command: rest };
  else if (kind === 'CMD-SHELL') probe = { type: 'shell', script: rest[0] as string };
  else {
    // TCP HOST:PORT and HTTP URL, as apply wrote them from tcpSocket and httpGet.
    const url = new URL(kind === 'TCP' ? `tcp://${rest[0] as string}` : (rest[0] as string));
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const named = host === '127.0.0.1' ? {} : { host };
    probe = kind === 'TCP' ? { type: 'tcp', port, ...named } : { type: 'http', port, path: `${url.pathname}${url.search}`, https: url.protocol === 'https:', headers: {}, ...named };
  }
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return { probe, intervalSeconds: seconds(check.intervalMs), timeoutSeconds: seconds(check.timeoutMs), retries: check.retries, startPeriodSeconds: Math.ceil(check.startPeriodMs / 1000) };
}

export interface GenerateKubeInput {
  names: string[];
  kind: GeneratedKind;
  pinDigests?: boolean;
}

/** ENOTFOUND naming a container that is not installed. */
export async function generateKubeYaml(app: AppContext, input: GenerateKubeInput): Promise<GenerateResult> {
  const deployments = new DeploymentStore(app.settings.root);
  const pods = new Map<string, GeneratedPod>();
  for (const name of input.names) {
    const active = await deployments.active(name);
    if (active === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
    const owner = ownerRecordSchema.safeParse(active.info.owner);
    // A pod and a container name in Kubernetes are lowercase RFC 1123 labels.
    const kubeName = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 54) || 'container';
    let pod = kubeName;
    let inPod = kubeName;
    let declared: Omit<DeclaredContainer, 'origin'>;
    if (owner.success) {
      declared = owner.data.declared as unknown as Omit<DeclaredContainer, 'origin'>;
      if (owner.data.pod !== undefined && owner.data.podContainer !== undefined) {
        pod = owner.data.pod;
        inPod = owner.data.podContainer;
      }
    } else {
      declared = await fromDeployment(active.dir, active.info);
    }
    const entry = pods.get(pod) ?? { name: pod, containers: [] };
    entry.containers.push({ name: inPod, declared, manifestDigest: active.info.manifestDigest });
    pods.set(pod, entry);
  }
  return generateKube([...pods.values()], { kind: input.kind, ...(input.pinDigests ? { pinDigests: true } : {}) });
}
