// `generate kube`: the Kubernetes YAML of installed containers, for `podman kube play`, a
// kubelet, or `syscontainer apply` on another host. Written from the declarations apply keeps
// (so applying the output reproduces the same spec digests) or from what a container installed
// by hand runs with. A DaemonSet is the fleet form of a system container: one per node.
import { stringify } from 'yaml';
import type { ContainerSpec } from '../../runtime/index.js';
import type { DeclaredCheck, DeclaredContainer } from './declared-container.js';
import { afterAnnotation } from './kube-containers.js';
import { formatKubeBytes, formatKubeCpu } from './formats/quantities.js';

export type GeneratedKind = 'pod' | 'daemonset' | 'deployment';

export interface GeneratedContainer {
  /** The container's name inside its pod (POD-NAME on the host). */
  name: string;
  declared: Omit<DeclaredContainer, 'origin'>;
  /** sha256:… of the image's manifest, for --pin-digests. */
  manifestDigest: string;
}

export interface GeneratedPod {
  name: string;
  containers: GeneratedContainer[];
}

/** Why part of a container could not be written in Kubernetes terms: printed as warnings. */
export interface GenerateResult {
  yaml: string;
  warnings: string[];
}

type Json = Record<string, unknown>;

function pinned(image: string, digest: string): string {
  const withoutDigest = image.replace(/@sha256:[0-9a-f]{64}$/, '');
  // Drop a tag: the digest says which image.
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repo = colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repo}@${digest}`;
}

function probe(check: DeclaredCheck): Json {
  const p = check.probe;
  const handler: Json =
    p.type === 'exec'
      ? { exec: { command: p.command } }
      : p.type === 'shell'
        ? { exec: { command: ['/bin/sh', '-c', p.script] } }
        : p.type === 'http'
          ? {
              httpGet: {
                path: p.path,
                port: p.port,
                ...(p.host !== undefined ? { host: p.host } : {}),
                ...(p.https ? { scheme: 'HTTPS' } : {}),
                ...(Object.keys(p.headers).length > 0 ? { httpHeaders: Object.entries(p.headers).map(([name, value]) => ({ name, value })) } : {}),
              },
            }
          : { tcpSocket: { port: p.port, ...(p.host !== undefined ? { host: p.host } : {}) } };
  return { ...handler, initialDelaySeconds: check.startPeriodSeconds, periodSeconds: check.intervalSeconds, timeoutSeconds: check.timeoutSeconds, failureThreshold: check.retries };
}

interface PodParts {
  volumes: Json[];
  configMaps: Json[];
  warnings: string[];
}

function volumeMounts(pod: string, container: GeneratedContainer, parts: PodParts): Json[] {
  const spec = container.declared.spec;
  const mounts: Json[] = [];
  const hostPathTypes = new Map(container.declared.hostPaths.map((h) => [h.path, h.type]));
  for (const m of spec.mounts ?? []) {
    const index = parts.volumes.length;
    const volumeName = `${container.name}-${index}`.slice(0, 63).replace(/-+$/, '');
    switch (m.type) {
      case 'bind': {
        const type = hostPathTypes.get(m.source);
        parts.volumes.push({ name: volumeName, hostPath: { path: m.source, ...(type !== undefined && type !== 'any' ? { type } : {}) } });
        mounts.push({ name: volumeName, mountPath: m.destination, ...(m.readOnly ? { readOnly: true } : {}) });
        break;
      }
      case 'pod-volume': {
        if (!parts.volumes.some((v) => v.name === m.volume)) parts.volumes.push({ name: m.volume, emptyDir: {} });
        mounts.push({ name: m.volume, mountPath: m.destination, ...(m.subPath !== undefined ? { subPath: m.subPath } : {}), ...(m.readOnly ? { readOnly: true } : {}) });
        break;
      }
      case 'files':
      case 'file': {
        const files = m.type === 'files' ? m.files : [{ name: m.destination.split('/').pop() as string, content: m.content, mode: m.mode }];
        const configMap = `${pod}-${volumeName}`.slice(0, 253);
        parts.configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMap }, data: Object.fromEntries(files.map((f) => [f.name, f.content])) });
        parts.volumes.push({ name: volumeName, configMap: { name: configMap, items: files.map((f) => ({ key: f.name, path: f.name, ...(f.mode !== undefined ? { mode: f.mode } : {}) })) } });
        mounts.push({ name: volumeName, mountPath: m.destination, ...(m.type === 'file' ? { subPath: files[0]?.name } : {}), readOnly: true });
        break;
      }
      case 'tmpfs':
        parts.warnings.push(`container ${container.name}: the tmpfs at ${m.destination} has no Kubernetes form; left out`);
        break;
    }
  }
  return mounts;
}

function kubeContainer(pod: string, container: GeneratedContainer, pin: boolean, parts: PodParts): Json {
  const d = container.declared;
  const spec: ContainerSpec = d.spec;
  const securityContext: Json = {};
  if (spec.privileged) securityContext.privileged = true;
  if (spec.capabilities !== undefined) securityContext.capabilities = { ...(spec.capabilities.add ? { add: spec.capabilities.add } : {}), ...(spec.capabilities.drop ? { drop: spec.capabilities.drop } : {}) };
  if (spec.noNewPrivileges !== undefined) securityContext.allowPrivilegeEscalation = !spec.noNewPrivileges;
  if (spec.user !== undefined) {
    const [user = '', group] = spec.user.split(':');
    if (/^\d+$/.test(user) && (group === undefined || /^\d+$/.test(group))) {
      securityContext.runAsUser = Number(user);
      if (group !== undefined) securityContext.runAsGroup = Number(group);
    } else parts.warnings.push(`container ${container.name}: user ${spec.user} is a name; Kubernetes takes numbers only, left out`);
  }
  if (spec.hostUts) parts.warnings.push(`container ${container.name}: the host's UTS namespace has no Kubernetes form; left out`);
  if (spec.network === 'private') parts.warnings.push(`container ${container.name}: a network of its own becomes the pod's network`);
  if (spec.resources?.cpuWeight !== undefined) parts.warnings.push(`container ${container.name}: the CPU weight has no Kubernetes form; left out`);
  const limits: Json = {};
  if (spec.resources?.memoryBytes !== undefined) limits.memory = formatKubeBytes(spec.resources.memoryBytes);
  if (spec.resources?.cpuMillis !== undefined) limits.cpu = formatKubeCpu(spec.resources.cpuMillis);
  const mounts = volumeMounts(pod, container, parts);
  return {
    name: container.name,
    image: pin ? pinned(d.image, container.manifestDigest) : d.image,
    ...(d.pull === 'always' ? { imagePullPolicy: 'Always' } : d.pull === 'never' ? { imagePullPolicy: 'Never' } : {}),
    ...(spec.command !== undefined ? { command: spec.command } : {}),
    ...(spec.args !== undefined ? { args: spec.args } : {}),
    ...(spec.env !== undefined ? { env: Object.entries(spec.env).map(([name, value]) => ({ name, value })) } : {}),
    ...(spec.workingDir !== undefined ? { workingDir: spec.workingDir } : {}),
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...(Object.keys(securityContext).length > 0 ? { securityContext } : {}),
    ...(Object.keys(limits).length > 0 ? { resources: { limits } } : {}),
    ...(d.liveness ? { livenessProbe: probe(d.liveness) } : {}),
    ...(d.startup ? { startupProbe: probe(d.startup) } : {}),
    ...(d.readiness ? { readinessProbe: probe(d.readiness) } : {}),
  };
}

const restartPolicies = { always: 'Always', 'unless-stopped': 'Always', 'on-failure': 'OnFailure', no: 'Never' } as const;

/** YAML documents (ConfigMaps first, then one Pod, DaemonSet or Deployment per pod). Pure. */
export function generateKube(pods: readonly GeneratedPod[], options: { kind: GeneratedKind; pinDigests?: boolean }): GenerateResult {
  const podOf = new Map<string, string>(pods.flatMap((p) => p.containers.map((c) => [`${p.name}-${c.name}`, p.name] as const)));
  const documents: Json[] = [];
  const workloads: Json[] = [];
  const warnings: string[] = [];
  for (const pod of pods) {
    const parts: PodParts = { volumes: [], configMaps: [], warnings };
    const init = pod.containers.filter((c) => c.declared.role === 'oneshot');
    const services = pod.containers.filter((c) => c.declared.role === 'service');
    const first = (services[0] ?? pod.containers[0])?.declared;
    const spec = first?.spec;
    const restart = services[0]?.declared.restart;
    if (options.kind !== 'pod' && restart !== undefined && restartPolicies[restart] !== 'Always') {
      warnings.push(`pod ${pod.name}: a ${options.kind}'s pods restart always; its restart policy ${restart} is left out`);
    }
    if (services.some((s) => s.declared.restart !== restart)) warnings.push(`pod ${pod.name}: its containers have different restart policies; ${restart ?? 'the default'} is written`);
    const afterPods = [...new Set(pod.containers.flatMap((c) => c.declared.after.map((a) => podOf.get(a)).filter((p): p is string => p !== undefined && p !== pod.name)))].sort();
    const podSpec: Json = {
      ...(spec?.network === 'host' ? { hostNetwork: true } : {}),
      ...(spec?.hostname !== undefined ? { hostname: spec.hostname } : {}),
      ...(spec?.hostPid ? { hostPID: true } : {}),
      ...(spec?.hostIpc ? { hostIPC: true } : {}),
      ...(options.kind === 'pod' && restart !== undefined ? { restartPolicy: restartPolicies[restart] } : {}),
      ...(init.length > 0 ? { initContainers: init.map((c) => kubeContainer(pod.name, c, options.pinDigests === true, parts)) } : {}),
      containers: services.map((c) => kubeContainer(pod.name, c, options.pinDigests === true, parts)),
    };
    if (parts.volumes.length > 0) podSpec.volumes = parts.volumes;
    const metadata: Json = { name: pod.name, ...(afterPods.length > 0 ? { annotations: { [afterAnnotation]: afterPods.join(',') } } : {}) };
    documents.push(...parts.configMaps);
    if (options.kind === 'pod') workloads.push({ apiVersion: 'v1', kind: 'Pod', metadata, spec: podSpec });
    else {
      const labels = { app: pod.name };
      const template = { metadata: { labels }, spec: podSpec };
      workloads.push({
        apiVersion: 'apps/v1',
        kind: options.kind === 'daemonset' ? 'DaemonSet' : 'Deployment',
        metadata,
        spec: { ...(options.kind === 'deployment' ? { replicas: 1 } : {}), selector: { matchLabels: labels }, template },
      });
    }
  }
  const yaml = [...documents, ...workloads].map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  return { yaml, warnings };
}
