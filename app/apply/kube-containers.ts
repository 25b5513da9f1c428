// Kubernetes pods (Pod, and the pod template of a DaemonSet or Deployment) as declared
// containers: one per container and init container, named POD-CONTAINER, sharing the pod's
// network namespace (or the host's with hostNetwork) and its volumes. ConfigMaps of the same
// set are resolved here, so their content is part of each spec that uses them.
import path from 'node:path';
import { podNamePattern, type ContainerMount, type ContainerSpec } from '../../runtime/index.js';
import type { DeclaredCheck, DeclaredContainer, DeclarationOrigin, DeclarationProblem } from './declared-container.js';
import { originWhere } from './declared-container.js';
import type { KubeContainer, KubePodSpec } from './formats/kube-schema.js';
import { kubeCpuMillis, kubeMemoryBytes } from './formats/quantities.js';

export interface KubePodInput {
  kind: 'Pod' | 'DaemonSet' | 'Deployment';
  name: string;
  annotations: Record<string, string>;
  spec: KubePodSpec;
  /** The path of the pod spec in the document: `spec` or `spec.template.spec`. */
  specPath: string;
  origin: Omit<DeclarationOrigin, 'object' | 'field'>;
}

export interface ConfigMapData {
  data: Record<string, string>;
}

/** The annotation that orders pods: `syscontainer.io/after: POD[,POD]`. */
export const afterAnnotation = 'syscontainer.io/after';
const maxNameLength = 64;

class Problems {
  readonly list: DeclarationProblem[] = [];
  constructor(readonly where: string) {}
  add(field: string, message: string, unsupported = false): void {
    this.list.push({ where: this.where, field, message, unsupported });
  }
}

function check(probe: NonNullable<KubeContainer['livenessProbe']>, field: string, ports: Map<string, number>, problems: Problems): DeclaredCheck | undefined {
  const handlers = [probe.exec, probe.httpGet, probe.tcpSocket].filter((h) => h !== undefined);
  if (handlers.length !== 1) {
    problems.add(field, 'needs exactly one of exec, httpGet or tcpSocket');
    return undefined;
  }
  const portOf = (value: number | string, at: string): number | undefined => {
    if (typeof value === 'number') return value;
    const found = ports.get(value);
    if (found === undefined) problems.add(at, `no container port is named ${JSON.stringify(value)}`);
    return found;
  };
  let declared: DeclaredCheck['probe'] | undefined;
  if (probe.exec !== undefined) declared = { type: 'exec', command: probe.exec.command };
  else if (probe.httpGet !== undefined) {
    if ((probe.httpGet.httpHeaders ?? []).length > 0) problems.add(`${field}.httpGet.httpHeaders`, "not supported (syscontainer's HTTP probe sends no headers of its own)", true);
    const port = portOf(probe.httpGet.port, `${field}.httpGet.port`);
    if (port === undefined) return undefined;
    declared = {
      type: 'http',
      port,
      path: probe.httpGet.path ?? '/',
      ...(probe.httpGet.host !== undefined ? { host: probe.httpGet.host } : {}),
      https: probe.httpGet.scheme === 'HTTPS',
      headers: Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value])),
    };
  } else if (probe.tcpSocket !== undefined) {
    const port = portOf(probe.tcpSocket.port, `${field}.tcpSocket.port`);
    if (port === undefined) return undefined;
    declared = { type: 'tcp', port, ...(probe.tcpSocket.host !== undefined ? { host: probe.tcpSocket.host } : {}) };
  }
  if (declared === undefined) return undefined;
  // Kubernetes' defaults.
  return {
    probe: declared,
    intervalSeconds: probe.periodSeconds ?? 10,
    timeoutSeconds: probe.timeoutSeconds ?? 1,
    retries: probe.failureThreshold ?? 3,
    startPeriodSeconds: probe.initialDelaySeconds ?? 0,
  };
}

function configMapValue(configMaps: ReadonlyMap<string, ConfigMapData>, name: string, optional: boolean | undefined, field: string, problems: Problems): ConfigMapData | undefined {
  const found = configMaps.get(name);
  if (found === undefined && optional !== true) problems.add(field, `ConfigMap ${name} is not among the applied files`);
  return found;
}

function environment(container: KubeContainer, field: string, configMaps: ReadonlyMap<string, ConfigMapData>, problems: Problems): Record<string, string> | undefined {
  const env: Record<string, string> = {};
  // envFrom first: Kubernetes lets `env` override what envFrom brings.
  (container.envFrom ?? []).forEach((from, i) => {
    const map = configMapValue(configMaps, from.configMapRef.name, from.configMapRef.optional, `${field}.envFrom[${i}].configMapRef.name`, problems);
    for (const [key, value] of Object.entries(map?.data ?? {})) {
      const name = `${from.prefix ?? ''}${key}`;
      if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) env[name] = value;
    }
  });
  (container.env ?? []).forEach((variable, i) => {
    const at = `${field}.env[${i}]`;
    const ref = variable.valueFrom?.configMapKeyRef;
    if (variable.value !== undefined && ref !== undefined) problems.add(at, 'value and valueFrom both given');
    if (ref !== undefined) {
      const map = configMapValue(configMaps, ref.name, ref.optional, `${at}.valueFrom.configMapKeyRef.name`, problems);
      const value = map?.data[ref.key];
      if (map !== undefined && value === undefined && ref.optional !== true) problems.add(`${at}.valueFrom.configMapKeyRef.key`, `ConfigMap ${ref.name} has no key ${JSON.stringify(ref.key)}`);
      if (value !== undefined) env[variable.name] = value;
    } else if (variable.valueFrom !== undefined) {
      problems.add(`${at}.valueFrom`, 'needs configMapKeyRef');
    } else env[variable.name] = variable.value ?? '';
  });
  return Object.keys(env).length > 0 ? env : undefined;
}

function mounts(
  container: KubeContainer,
  field: string,
  pod: KubePodInput,
  configMaps: ReadonlyMap<string, ConfigMapData>,
  problems: Problems,
  hostPaths: DeclaredContainer['hostPaths'],
): ContainerMount[] {
  const volumes = new Map((pod.spec.volumes ?? []).map((v, i) => [v.name, { volume: v, index: i }]));
  const out: ContainerMount[] = [];
  (container.volumeMounts ?? []).forEach((mount, i) => {
    const at = `${field}.volumeMounts[${i}]`;
    const found = volumes.get(mount.name);
    if (found === undefined) {
      problems.add(`${at}.name`, `no volume named ${mount.name} in ${pod.specPath}.volumes`);
      return;
    }
    const { volume, index } = found;
    const volumeField = `${pod.specPath}.volumes[${index}]`;
    const kinds = [volume.hostPath, volume.emptyDir, volume.configMap].filter((k) => k !== undefined).length;
    if (kinds !== 1) {
      problems.add(volumeField, 'needs exactly one of hostPath, emptyDir or configMap');
      return;
    }
    const destination = path.posix.normalize(mount.mountPath).replace(/(.)\/$/, '$1');
    if (volume.hostPath !== undefined) {
      const source = path.posix.normalize(path.posix.join(volume.hostPath.path, mount.subPath ?? ''));
      hostPaths.push({ path: volume.hostPath.path, type: volume.hostPath.type === undefined || volume.hostPath.type === '' ? 'any' : volume.hostPath.type });
      out.push({ type: 'bind', source: source.length > 1 ? source.replace(/\/$/, '') : source, destination, ...(mount.readOnly === true ? { readOnly: true } : {}) });
    } else if (volume.emptyDir !== undefined) {
      out.push({ type: 'pod-volume', volume: volume.name, ...(mount.subPath !== undefined ? { subPath: mount.subPath } : {}), destination, ...(mount.readOnly === true ? { readOnly: true } : {}) });
    } else if (volume.configMap !== undefined) {
      const source = volume.configMap;
      const map = configMapValue(configMaps, source.name, source.optional, `${volumeField}.configMap.name`, problems);
      const data = map?.data ?? {};
      const items = source.items ?? Object.keys(data).sort().map((key) => ({ key, path: key, mode: undefined as number | undefined }));
      const files: { name: string; content: string; mode?: number }[] = [];
      items.forEach((item, j) => {
        const content = data[item.key];
        if (content === undefined) {
          if (map !== undefined && source.optional !== true) problems.add(`${volumeField}.configMap.items[${j}].key`, `ConfigMap ${source.name} has no key ${JSON.stringify(item.key)}`);
          return;
        }
        const mode = item.mode ?? source.defaultMode;
        files.push({ name: item.path, content, ...(mode !== undefined ? { mode } : {}) });
      });
      if (mount.subPath !== undefined) {
        const file = files.find((f) => f.name === mount.subPath);
        if (file === undefined) problems.add(`${at}.subPath`, `ConfigMap ${source.name} gives no file ${JSON.stringify(mount.subPath)}`);
        else out.push({ type: 'file', destination, content: file.content, ...(file.mode !== undefined ? { mode: file.mode } : {}) });
      } else {
        out.push({ type: 'files', destination, files });
      }
      if (mount.readOnly === false) {
        // Kubernetes mounts ConfigMaps read-only whatever the mount says; so does syscontainer.
      }
    }
  });
  return out;
}

function containerSpec(
  container: KubeContainer,
  field: string,
  pod: KubePodInput,
  configMaps: ReadonlyMap<string, ConfigMapData>,
  problems: Problems,
  hostPaths: DeclaredContainer['hostPaths'],
): ContainerSpec {
  const spec: ContainerSpec = { pod: pod.name, network: pod.spec.hostNetwork === true ? 'host' : 'pod' };
  if (container.command !== undefined) {
    if (container.command.length === 0) problems.add(`${field}.command`, 'is empty');
    else spec.command = container.command;
  }
  if (container.args !== undefined) spec.args = container.args;
  const env = environment(container, field, configMaps, problems);
  if (env !== undefined) spec.env = env;
  if (container.workingDir !== undefined) spec.workingDir = path.posix.normalize(container.workingDir).replace(/(.)\/$/, '$1');
  const sc = container.securityContext;
  const runAsUser = sc?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? pod.spec.securityContext?.runAsGroup;
  if (runAsUser !== undefined) spec.user = runAsGroup === undefined ? String(runAsUser) : `${runAsUser}:${runAsGroup}`;
  else if (runAsGroup !== undefined) problems.add(`${field}.securityContext.runAsGroup`, 'needs runAsUser too');
  if (sc?.privileged === true) spec.privileged = true;
  if (sc?.capabilities?.add?.length || sc?.capabilities?.drop?.length) {
    spec.capabilities = {
      ...(sc.capabilities.add?.length ? { add: sc.capabilities.add } : {}),
      ...(sc.capabilities.drop?.length ? { drop: sc.capabilities.drop.map((c) => (c.toUpperCase() === 'ALL' ? 'ALL' : c)) } : {}),
    };
  }
  if (sc?.allowPrivilegeEscalation !== undefined) spec.noNewPrivileges = !sc.allowPrivilegeEscalation;
  if (pod.spec.hostPID === true) spec.hostPid = true;
  if (pod.spec.hostIPC === true) spec.hostIpc = true;
  const limits = container.resources?.limits;
  if (limits?.memory !== undefined) {
    const bytes = kubeMemoryBytes(limits.memory);
    if (bytes === undefined) problems.add(`${field}.resources.limits.memory`, `${JSON.stringify(limits.memory)} is not a memory quantity (e.g. 128Mi)`);
    else spec.resources = { ...spec.resources, memoryBytes: bytes };
  }
  if (limits?.cpu !== undefined) {
    const millis = kubeCpuMillis(limits.cpu);
    if (millis === undefined) problems.add(`${field}.resources.limits.cpu`, `${JSON.stringify(limits.cpu)} is not a cpu quantity (e.g. 500m)`);
    else spec.resources = { ...spec.resources, cpuMillis: millis };
  }
  const m = mounts(container, field, pod, configMaps, problems, hostPaths);
  if (m.length > 0) spec.mounts = m;
  return spec;
}

/**
 * The declared containers of one pod, init containers first (each after the one before it;
 * the pod's containers require them all). Problems name the file, document, object and field.
 */
export function podContainers(pod: KubePodInput, configMaps: ReadonlyMap<string, ConfigMapData>): { containers: DeclaredContainer[]; problems: DeclarationProblem[] } {
  const object = `${pod.kind.toLowerCase()}/${pod.name}`;
  const problems = new Problems(originWhere({ ...pod.origin, object }));
  const containers: DeclaredContainer[] = [];
  if (!podNamePattern.test(pod.name)) {
    problems.add('metadata.name', 'a pod name here is at most 54 lowercase letters, digits, "." or "-" (it names units and namespaces)');
    return { containers, problems: problems.list };
  }
  if (pod.kind !== 'Pod' && pod.spec.restartPolicy !== undefined && pod.spec.restartPolicy !== 'Always') {
    problems.add(`${pod.specPath}.restartPolicy`, `a ${pod.kind}'s pods are restarted always (Kubernetes allows only Always)`);
  }
  const restart = ({ Always: 'always', OnFailure: 'on-failure', Never: 'no' } as const)[pod.spec.restartPolicy ?? 'Always'];
  const seen = new Map<string, string>();
  const initNames: string[] = [];
  const lists: [KubeContainer[], 'initContainers' | 'containers'][] = [
    [pod.spec.initContainers ?? [], 'initContainers'],
    [pod.spec.containers, 'containers'],
  ];
  for (const [list, key] of lists) {
    list.forEach((container, i) => {
      const field = `${pod.specPath}.${key}[${i}]`;
      const earlier = seen.get(container.name);
      if (earlier !== undefined) {
        problems.add(`${field}.name`, `the name ${container.name} is used by ${earlier} too`);
        return;
      }
      seen.set(container.name, field);
      const name = `${pod.name}-${container.name}`;
      if (name.length > maxNameLength) {
        problems.add(`${field}.name`, `the container would be named ${name}, longer than ${maxNameLength} characters`);
        return;
      }
      const ports = new Map((container.ports ?? []).flatMap((p) => (p.name === undefined ? [] : [[p.name, p.containerPort] as const])));
      const hostPaths: DeclaredContainer['hostPaths'] = [];
      const before = problems.list.length;
      const spec = containerSpec(container, field, pod, configMaps, problems, hostPaths);
      const isInit = key === 'initContainers';
      if (isInit) spec.oneshot = true;
      if (pod.spec.hostname !== undefined) spec.hostname = pod.spec.hostname;
      const probes = { liveness: container.livenessProbe, startup: container.startupProbe, readiness: container.readinessProbe };
      const checks: Partial<Record<keyof typeof probes, DeclaredCheck>> = {};
      for (const [probeName, probe] of Object.entries(probes) as [keyof typeof probes, KubeContainer['livenessProbe']][]) {
        if (probe === undefined) continue;
        if (isInit) {
          problems.add(`${field}.${probeName}Probe`, 'an init container runs to completion and has no probes');
          continue;
        }
        const declared = check(probe, `${field}.${probeName}Probe`, ports, problems);
        if (declared !== undefined) checks[probeName] = declared;
      }
      // An unsupported field alone (a warning with --ignore-unsupported) does not drop the container.
      if (problems.list.slice(before).some((p) => !p.unsupported)) return;
      const pull = container.imagePullPolicy === 'Always' ? 'always' : container.imagePullPolicy === 'Never' ? 'never' : 'missing';
      containers.push({
        name,
        image: container.image,
        pull,
        role: isInit ? 'oneshot' : 'service',
        spec,
        // An init container runs once; the pod's policy applies to its containers.
        restart: isInit ? 'no' : restart,
        ...checks,
        requires: isInit ? initNames.slice(-1) : [...initNames],
        wants: [],
        after: [],
        hostPaths,
        origin: { ...pod.origin, object, field },
      });
      if (isInit) initNames.push(name);
    });
  }
  return { containers, problems: problems.list };
}

/** The pods named by a pod's `syscontainer.io/after` annotation, validated. */
export function podsAfter(annotations: Record<string, string>): { pods: string[]; bad: string[] } {
  const value = annotations[afterAnnotation];
  if (value === undefined) return { pods: [], bad: [] };
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { pods: names.filter((n) => podNamePattern.test(n)), bad: names.filter((n) => !podNamePattern.test(n)) };
}
