import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { DeclaredContainer } from '../../app/apply/declared-container.js';
import { problemLine } from '../../app/apply/declared-container.js';
import { generateKube, type GeneratedPod } from '../../app/apply/generate-kube.js';
import { loadDeclarations, startOrder } from '../../app/apply/load-declarations.js';
import { makePlan } from '../../app/apply/plan.js';
import { closingLines, outcomeLine, planLines } from '../../app/apply/plan-output.js';
import { declaredContent, specDigest } from '../../app/apply/spec-digest.js';

function declared(name: string, pod?: string): DeclaredContainer {
  return {
    name,
    image: 'x',
    pull: 'missing',
    role: 'service',
    spec: pod ? { pod, network: 'pod' } : {},
    requires: [],
    wants: [],
    after: [],
    hostPaths: [],
    origin: { file: 'f.yaml', path: '/f.yaml', document: 1, documents: 1, object: pod ? `pod/${pod}` : 'paunch', field: name },
  };
}

test('the plan: create, update, unchanged and prune; other owners are never touched', (t) => {
  const declaredList = [declared('web-a', 'web'), declared('web-b', 'web'), declared('db')];
  const digests = new Map([['web-a', 'sha256:1'], ['web-b', 'sha256:2'], ['db', 'sha256:3']]);
  const installed = [
    { name: 'web-a', configId: 'site', specDigest: 'sha256:1', pod: 'web' },
    { name: 'web-b', configId: 'site', specDigest: 'sha256:old', pod: 'web' },
    { name: 'old', configId: 'site', specDigest: 'sha256:9' },
    { name: 'mine', configId: 'other', specDigest: 'sha256:9' },
    { name: 'etcd' },
  ];
  const plan = makePlan({ configId: 'site', declared: declaredList, digests, installed, prune: true });
  t.deepEqual(plan.errors, []);
  t.deepEqual(plan.steps.map((s) => [s.name, s.action]), [['web-a', 'unchanged'], ['web-b', 'update'], ['db', 'create'], ['old', 'remove']]);
  t.deepEqual(planLines(plan), [
    'container/web-a unchanged',
    'container/web-b configured (dry run)',
    'container/db created (dry run)',
    'container/old pruned (dry run)',
    'pod/web configured (dry run)',
    '1 created, 1 configured, 1 unchanged, 1 pruned',
  ]);
  t.deepEqual(makePlan({ configId: 'site', declared: declaredList, digests, installed, prune: false }).steps.map((s) => s.action), ['unchanged', 'update', 'create']);
  const clash = makePlan({ configId: 'site', declared: [declared('etcd'), declared('mine')], digests: new Map([['etcd', 'a'], ['mine', 'b']]), installed, prune: true });
  t.deepEqual(clash.errors.map(problemLine), [
    'f.yaml: paunch: etcd: container etcd already exists, installed by hand (not by apply): not touched',
    'f.yaml: paunch: mine: container mine already exists, owned by config id other: not touched',
  ]);
  const outcomes = [
    { step: plan.steps[0]!, ok: true as const },
    { step: plan.steps[1]!, ok: false as const, error: 'did not stay running' },
  ];
  t.is(outcomeLine(outcomes[1]!), 'container/web-b failed: did not stay running');
  t.deepEqual(closingLines(outcomes), ['0 created, 0 configured, 1 unchanged, 0 pruned, 1 failed (web-b)']);
});

test('start order follows requires and after', (t) => {
  const a = { ...declared('a'), after: ['c'] };
  const b = declared('b');
  const c = { ...declared('c'), requires: ['b'] };
  t.deepEqual(startOrder([a, b, c]).map((x) => x.name), ['b', 'c', 'a']);
});

test('generate kube writes what apply reads back into the same spec digests', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-gen-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'host.conf'), 'x\n');
  await writeFile(
    path.join(dir, 'pods.yaml'),
    `apiVersion: v1
kind: ConfigMap
metadata: { name: cfg }
data: { a.conf: "a\\n", KEY: v }
---
apiVersion: v1
kind: Pod
metadata: { name: db }
spec:
  hostNetwork: true
  containers: [{ name: server, image: "127.0.0.1:5000/db:1", command: [db, --serve] }]
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations: { syscontainer.io/after: db }
spec:
  hostPID: true
  restartPolicy: OnFailure
  initContainers: [{ name: init, image: busybox, command: [sh, -c, "true"], volumeMounts: [{ name: w, mountPath: /w }] }]
  containers:
    - name: server
      image: busybox
      args: [httpd, -f]
      env: [{ name: K, valueFrom: { configMapKeyRef: { name: cfg, key: KEY } } }]
      volumeMounts:
        - { name: w, mountPath: /w, readOnly: true }
        - { name: c, mountPath: /etc/a.conf, subPath: a.conf }
        - { name: h, mountPath: /etc/host.conf, readOnly: true }
      securityContext: { runAsUser: 10, capabilities: { add: [NET_ADMIN] }, privileged: false }
      resources: { limits: { memory: 100Mi, cpu: "2" } }
      livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 3 }
      readinessProbe: { exec: { command: [test, -f, /w/ready] } }
  volumes:
    - { name: w, emptyDir: {} }
    - { name: c, configMap: { name: cfg } }
    - { name: h, hostPath: { path: ${path.join(dir, 'host.conf')}, type: File } }
`,
  );
  const original = await loadDeclarations([dir]);
  t.deepEqual(original.errors.map(problemLine), []);
  const digestsOf = (loaded: typeof original) => Object.fromEntries(loaded.containers.map((c) => [c.name, specDigest(c, 'sha256:m', loaded.fileDigests)]));
  const pods = new Map<string, GeneratedPod>();
  for (const c of original.containers) {
    const pod = c.spec.pod as string;
    const entry = pods.get(pod) ?? { name: pod, containers: [] };
    entry.containers.push({ name: c.name.slice(pod.length + 1), declared: declaredContent(c), manifestDigest: `sha256:${'a'.repeat(64)}` });
    pods.set(pod, entry);
  }
  const generated = generateKube([...pods.values()], { kind: 'pod' });
  t.deepEqual(generated.warnings, []);
  const out = await mkdtemp(path.join(tmpdir(), 'syscontainer-gen-out-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  await writeFile(path.join(out, 'generated.yaml'), generated.yaml);
  const again = await loadDeclarations([out]);
  t.deepEqual(again.errors.map(problemLine), [], generated.yaml);
  t.deepEqual(digestsOf(again), digestsOf(original));
  t.deepEqual(again.containers.find((c) => c.name === 'web-server')?.after, ['db-server']);

  for (const kind of ['daemonset', 'deployment'] as const) {
    const other = generateKube([pods.get('db')!], { kind, pinDigests: true });
    await writeFile(path.join(out, 'generated.yaml'), other.yaml);
    const loaded = await loadDeclarations([out]);
    t.deepEqual(loaded.errors.map(problemLine), [], other.yaml);
    t.is(loaded.containers[0]?.image, `127.0.0.1:5000/db@sha256:${'a'.repeat(64)}`);
    t.regex(other.yaml, kind === 'daemonset' ? /kind: DaemonSet/ : /kind: Deployment\n[^]*replicas: 1/);
  }
});

test('paunch exec actions: placed after what they follow, run every time, named in the lines', (t) => {
  const origin = { file: 'f.json', path: '/f.json', document: 1, documents: 1, object: 'paunch', field: 'init' };
  const exec = { name: 'init', target: 'db', command: ['true'], exitCodes: [0], after: ['db'], origin };
  const plan = makePlan({ configId: 'c', declared: [declared('db'), declared('api')], digests: new Map([['db', 'a'], ['api', 'b']]), installed: [{ name: 'db', configId: 'c', specDigest: 'a' }], prune: true, execs: [exec] });
  t.deepEqual(plan.steps.map((s) => [s.name, s.action]), [['db', 'unchanged'], ['init', 'exec'], ['api', 'create']]);
  t.deepEqual(planLines(plan), ['container/db unchanged', 'exec/init runs (dry run)', 'container/api created (dry run)', '1 created, 0 configured, 1 unchanged, 0 pruned, 1 exec ran']);
  const step = plan.steps[1]!;
  t.is(outcomeLine({ step, ok: false, error: 'true in db exited with 1' }), 'exec/init failed: true in db exited with 1');
  const missing = makePlan({ configId: 'c', declared: [], digests: new Map(), installed: [], prune: false, execs: [{ ...exec, target: 'nowhere' }] });
  t.deepEqual(missing.errors.map(problemLine), ['f.json: paunch: init.command[0]: no container named nowhere is declared or installed to exec in']);
});
