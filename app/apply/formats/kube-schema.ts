// The Kubernetes objects apply reads (Pod, DaemonSet, Deployment, ConfigMap), as zod schemas of
// the fields syscontainer supports (README: "Supported Kubernetes fields"). Objects are strict:
// any other field is reported by path as not supported, never silently ignored. Fields that
// only describe (labels, annotations, status, creationTimestamp, terminationMessagePath, …) or
// that state what syscontainer does anyway are accepted and have no effect.
import * as z from 'zod';
import { builtOnFirstUse } from '../../../common/built-on-first-use.js';

/** Marks an issue as "this field or value is not supported" (turned into a warning by --ignore-unsupported). */
export const unsupportedPrefix = 'not supported';
const unsupported = (why: string) => `${unsupportedPrefix} (${why})`;

// RFC 1123 labels and subdomains, as Kubernetes checks names.
const dnsLabel = builtOnFirstUse(() => z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (letters, digits, "-"; at most 63)'));
const dnsSubdomain = builtOnFirstUse(() => z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase RFC 1123 subdomain'));
// Volume names: Kubernetes wants labels, podman writes names from host paths (upper case
// included) and plays them; accepted like podman, they only name things inside one pod.
const volumeName = builtOnFirstUse(() => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, 'a volume name is letters, digits, ".", "_" or "-"'));
const informational = builtOnFirstUse(() => z.unknown().optional());
const stringMap = builtOnFirstUse(() => z.record(z.string(), z.string()));
const port = builtOnFirstUse(() => z.union([z.number().int().min(1).max(65535), z.string().regex(/^[a-z0-9-]{1,15}$/, 'a port number or the name of a container port')]));
const quantity = builtOnFirstUse(() => z.union([z.string(), z.number()]));

export const metadataSchema = builtOnFirstUse(() => z.strictObject({
  name: dnsSubdomain,
  namespace: informational,
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  creationTimestamp: informational,
  uid: informational,
  resourceVersion: informational,
  generation: informational,
  managedFields: informational,
}));
const templateMetadata = builtOnFirstUse(() => metadataSchema.partial({ name: true }));

const envVar = builtOnFirstUse(() => z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'not a valid environment variable name'),
  value: z.string().optional(),
  valueFrom: z
    .strictObject({
      configMapKeyRef: z.strictObject({ name: dnsSubdomain, key: z.string().min(1), optional: z.boolean().optional() }).optional(),
    })
    .optional(),
}));
const envFrom = builtOnFirstUse(() => z.strictObject({
  configMapRef: z.strictObject({ name: dnsSubdomain, optional: z.boolean().optional() }),
  prefix: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/).optional(),
}));
const volumeMount = builtOnFirstUse(() => z.strictObject({
  name: volumeName,
  mountPath: z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path'),
  readOnly: z.boolean().optional(),
  subPath: z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a relative path without ".."').optional(),
}));
const probe = builtOnFirstUse(() => z.strictObject({
  exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
  httpGet: z
    .strictObject({
      path: z.string().startsWith('/').optional(),
      port,
      host: z.string().optional(),
      scheme: z.enum(['HTTP', 'HTTPS']).optional(),
      httpHeaders: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
    })
    .optional(),
  tcpSocket: z.strictObject({ port, host: z.string().optional() }).optional(),
  initialDelaySeconds: z.number().int().nonnegative().optional(),
  periodSeconds: z.number().int().positive().optional(),
  timeoutSeconds: z.number().int().positive().optional(),
  failureThreshold: z.number().int().positive().optional(),
  successThreshold: z.literal(1, { message: unsupported('a check passes on one success') }).optional(),
  terminationGracePeriodSeconds: informational,
}));
const capabilityNames = builtOnFirstUse(() => z.array(z.string().regex(/^[A-Za-z_]+$/, 'not a capability name')));
const securityContext = builtOnFirstUse(() => z.strictObject({
  privileged: z.boolean().optional(),
  capabilities: z.strictObject({ add: capabilityNames.optional(), drop: capabilityNames.optional() }).optional(),
  runAsUser: z.number().int().nonnegative().max(0xfffffffe).optional(),
  runAsGroup: z.number().int().nonnegative().max(0xfffffffe).optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  // The rootfs of a system container is always read-only (it is shared through the store).
  readOnlyRootFilesystem: z.literal(true, { message: unsupported('the rootfs is always read-only; write to a volume') }).optional(),
}));
const containerPort = builtOnFirstUse(() => z.strictObject({
  containerPort: z.number().int().min(1).max(65535),
  name: z.string().regex(/^[a-z0-9-]{1,15}$/).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
}));
const resources = builtOnFirstUse(() => z.strictObject({
  limits: z.strictObject({ memory: quantity.optional(), cpu: quantity.optional() }).optional(),
  // Requests place pods on nodes; there is one node here.
  requests: informational,
}));

export const kubeContainerSchema = builtOnFirstUse(() => z.strictObject({
  name: dnsLabel,
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(envVar).optional(),
  envFrom: z.array(envFrom).optional(),
  workingDir: z.string().startsWith('/').optional(),
  volumeMounts: z.array(volumeMount).optional(),
  securityContext: securityContext.optional(),
  resources: resources.optional(),
  livenessProbe: probe.optional(),
  startupProbe: probe.optional(),
  readinessProbe: probe.optional(),
  ports: z.array(containerPort).optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  terminationMessagePath: informational,
  terminationMessagePolicy: informational,
  stdin: z.literal(false, { message: unsupported('system containers run without a terminal') }).optional(),
  tty: z.literal(false, { message: unsupported('system containers run without a terminal') }).optional(),
}));
export type KubeContainer = z.infer<typeof kubeContainerSchema>;

const hostPathTypes = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const;
const volume = builtOnFirstUse(() => z.strictObject({
  name: volumeName,
  hostPath: z.strictObject({ path: z.string().startsWith('/'), type: z.enum(hostPathTypes).optional() }).optional(),
  emptyDir: z
    .strictObject({
      medium: z.literal('', { message: unsupported('an emptyDir is a directory under the pod\'s state; medium Memory is not offered') }).optional(),
      sizeLimit: informational,
    })
    .optional(),
  configMap: z
    .strictObject({
      name: dnsSubdomain,
      items: z.array(z.strictObject({ key: z.string().min(1), path: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a file name (no directories)'), mode: z.number().int().min(0).max(0o777).optional() })).optional(),
      defaultMode: z.number().int().min(0).max(0o777).optional(),
      optional: z.boolean().optional(),
    })
    .optional(),
}));
export type KubeVolume = z.infer<typeof volume>;

export const podSpecSchema = builtOnFirstUse(() => z.strictObject({
  containers: z.array(kubeContainerSchema).min(1),
  initContainers: z.array(kubeContainerSchema).optional(),
  volumes: z.array(volume).optional(),
  hostNetwork: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  hostname: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/).optional(),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
  securityContext: z.strictObject({ runAsUser: z.number().int().nonnegative().optional(), runAsGroup: z.number().int().nonnegative().optional() }).optional(),
  // No service account, no service links, no scheduler here: the values that say so are accepted.
  automountServiceAccountToken: z.literal(false, { message: unsupported('there is no API server to talk to') }).optional(),
  enableServiceLinks: z.literal(false, { message: unsupported('there are no services') }).optional(),
  dnsPolicy: informational,
  schedulerName: informational,
  terminationGracePeriodSeconds: informational,
}));
export type KubePodSpec = z.infer<typeof podSpecSchema>;

const podTemplate = builtOnFirstUse(() => z.strictObject({ metadata: templateMetadata.optional(), spec: podSpecSchema }));
const selector = builtOnFirstUse(() => z.unknown());

export const podSchema = builtOnFirstUse(() => z.strictObject({ apiVersion: z.literal('v1'), kind: z.literal('Pod'), metadata: metadataSchema, spec: podSpecSchema, status: informational }));
export const daemonSetSchema = builtOnFirstUse(() => z.strictObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('DaemonSet'),
  metadata: metadataSchema,
  spec: z.strictObject({ selector: selector.optional(), template: podTemplate, updateStrategy: informational, minReadySeconds: informational, revisionHistoryLimit: informational }),
  status: informational,
}));
export const deploymentSchema = builtOnFirstUse(() => z.strictObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: metadataSchema,
  spec: z.strictObject({
    // One host runs one copy: a system container is not scaled.
    replicas: z.literal(1, { message: unsupported('a host runs one copy of a system container; use replicas: 1') }).optional(),
    selector: selector.optional(),
    template: podTemplate,
    strategy: informational,
    minReadySeconds: informational,
    revisionHistoryLimit: informational,
    progressDeadlineSeconds: informational,
  }),
  status: informational,
}));
export const configMapSchema = builtOnFirstUse(() => z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: metadataSchema,
  data: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a ConfigMap key is letters, digits, "-", "_" or "."'), z.string()).optional(),
  immutable: informational,
}));

export type KubePod = z.infer<typeof podSchema>;
export type KubeDaemonSet = z.infer<typeof daemonSetSchema>;
export type KubeDeployment = z.infer<typeof deploymentSchema>;
export type KubeConfigMap = z.infer<typeof configMapSchema>;

export const kubeKinds = builtOnFirstUse(() => ({ Pod: podSchema, DaemonSet: daemonSetSchema, Deployment: deploymentSchema, ConfigMap: configMapSchema }) as const);
export type KubeKind = keyof typeof kubeKinds;

/** Why a field syscontainer does not support is not supported, where there is more to say than that. */
export const unsupportedReasons: Record<string, string> = {
  hostPort: "system containers share the pod's network; use hostNetwork",
  hostIP: "system containers share the pod's network; use hostNetwork",
  nodeSelector: 'there is one node: this host',
  nodeName: 'there is one node: this host',
  affinity: 'there is one node: this host',
  tolerations: 'there is one node: this host',
  serviceAccountName: 'there is no API server to talk to',
  serviceAccount: 'there is no API server to talk to',
  imagePullSecrets: 'credentials come from the auth file (syscontainer login)',
  secretKeyRef: 'Secrets are not read; use a ConfigMap or a hostPath file',
  secretRef: 'Secrets are not read; use a ConfigMap or a hostPath file',
  secret: 'Secrets are not read; use a ConfigMap or a hostPath file',
  fieldRef: 'there is no downward API',
  resourceFieldRef: 'there is no downward API',
  persistentVolumeClaim: 'use a hostPath volume',
  lifecycle: 'no postStart/preStop hooks',
  seLinuxOptions: 'SELinux labels are not set',
  seccompProfile: 'the runtime default applies',
  mountPropagation: 'mounts are private',
  binaryData: 'only text data',
  replicas: 'a host runs one copy of a system container',
};
