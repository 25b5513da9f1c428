import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { loadDeclarations } from '../../app/apply/load-declarations.js';
import { problemLine } from '../../app/apply/declared-container.js';
import { specDigest } from '../../app/apply/spec-digest.js';

async function tree(t: ExecutionContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-apply-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: hello
  index.html: "<h1>hi</h1>\\n"
`;

function webPod(hostFile: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  restartPolicy: OnFailure
  initContainers:
    - name: prepare
      image: 127.0.0.1:5000/busybox:1
      command: [sh, -c, "echo ready > /work/ready"]
      volumeMounts: [{ name: work, mountPath: /work }]
  containers:
    - name: server
      image: 127.0.0.1:5000/busybox:1
      command: [httpd, -f, -p, "127.0.0.1:8080"]
      env:
        - { name: GREETING, valueFrom: { configMapKeyRef: { name: web-config, key: GREETING } } }
        - { name: MODE, value: prod }
      ports: [{ containerPort: 8080, name: http }]
      volumeMounts:
        - { name: site, mountPath: /www, readOnly: true }
        - { name: work, mountPath: /work }
        - { name: conf, mountPath: /etc/web.conf, readOnly: true }
      resources: { limits: { memory: 64Mi, cpu: 500m } }
      livenessProbe:
        httpGet: { path: /, port: http }
        periodSeconds: 5
    - name: client
      image: 127.0.0.1:5000/busybox:1
      args: [sleep, "1000"]
      envFrom: [{ configMapRef: { name: web-config }, prefix: CFG_ }]
      securityContext: { runAsUser: 1000, runAsGroup: 1000, capabilities: { drop: [ALL], add: [NET_BIND_SERVICE] }, allowPrivilegeEscalation: false }
  volumes:
    - { name: site, configMap: { name: web-config, items: [{ key: index.html, path: index.html }] } }
    - { name: work, emptyDir: {} }
    - { name: conf, hostPath: { path: ${hostFile}, type: File } }
`;
}

test('a pod with an init container, a ConfigMap for env and files, an emptyDir and a hostPath file', async (t) => {
  const dir = await tree(t, { 'host/web.conf': 'listen 8080\n' });
  const pods = await tree(t, { 'a-config.yaml': configMap, 'web.yaml': webPod(path.join(dir, 'host/web.conf')) });
  const loaded = await loadDeclarations([pods]);
  t.deepEqual(loaded.errors.map(problemLine), []);
  t.deepEqual(loaded.formats.map((f) => f.format), ['kubernetes', 'kubernetes']);
  t.deepEqual(loaded.containers.map((c) => [c.name, c.role, c.requires, c.restart]), [
    ['web-prepare', 'oneshot', [], 'no'],
    ['web-server', 'service', ['web-prepare'], 'on-failure'],
    ['web-client', 'service', ['web-prepare'], 'on-failure'],
  ]);
  const server = loaded.containers[1]!;
  t.deepEqual(server.spec.env, { GREETING: 'hello', MODE: 'prod' });
  t.is(server.spec.network, 'pod');
  t.is(server.spec.pod, 'web');
  t.deepEqual(server.spec.resources, { memoryBytes: 64 << 20, cpuMillis: 500 });
  t.deepEqual(server.spec.mounts, [
    { type: 'files', destination: '/www', files: [{ name: 'index.html', content: '<h1>hi</h1>\n' }] },
    { type: 'pod-volume', volume: 'work', destination: '/work' },
    { type: 'bind', source: path.join(dir, 'host/web.conf'), destination: '/etc/web.conf', readOnly: true },
  ]);
  t.deepEqual(server.liveness, { probe: { type: 'http', port: 8080, path: '/', https: false, headers: {} }, intervalSeconds: 5, timeoutSeconds: 1, retries: 3, startPeriodSeconds: 0 });
  const client = loaded.containers[2]!;
  t.deepEqual(client.spec.env, { CFG_GREETING: 'hello', 'CFG_index.html': '<h1>hi</h1>\n' });
  t.is(client.spec.user, '1000:1000');
  t.deepEqual(client.spec.capabilities, { add: ['NET_BIND_SERVICE'], drop: ['ALL'] });
  t.is(client.spec.noNewPrivileges, true);
  t.true(loaded.fileDigests.has(path.join(dir, 'host/web.conf')));
});

test('an unsupported field is one error line naming file, object and field path', async (t) => {
  const dir = await tree(t, {
    'pods/etcd.yaml': `apiVersion: v1
kind: Pod
metadata: { name: etcd }
spec:
  nodeSelector: { disk: ssd }
  containers:
    - name: server
      image: etcd
      ports: [{ containerPort: 2379, hostPort: 2379 }]
`,
  });
  const loaded = await loadDeclarations(['pods/etcd.yaml'], { cwd: dir });
  t.deepEqual(loaded.errors.map(problemLine), [
    "pods/etcd.yaml: pod/etcd: spec.containers[0].ports[0].hostPort: not supported (system containers share the pod's network; use hostNetwork)",
    'pods/etcd.yaml: pod/etcd: spec.nodeSelector: not supported (there is one node: this host)',
  ]);
  t.deepEqual(loaded.containers, []);
  const ignoring = await loadDeclarations(['pods/etcd.yaml'], { cwd: dir, ignoreUnsupported: true });
  t.deepEqual(ignoring.errors, []);
  t.is(ignoring.warnings.length, 2);
  t.deepEqual(ignoring.containers.map((c) => c.name), ['etcd-server']);
});

test('wrong types, bad names and bad values are each one line; documents are numbered', async (t) => {
  const dir = await tree(t, {
    'bad.yaml': `apiVersion: v1
kind: Pod
metadata: { name: good }
spec:
  containers: [{ name: a, image: x }]
---
apiVersion: v1
kind: Pod
metadata: { name: Bad_Name }
spec:
  containers:
    - name: a
      image: 7
      env: [{ name: "1X", value: y }]
      resources: { limits: { memory: lots } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: many }
spec:
  replicas: 3
  template: { spec: { containers: [{ name: a, image: x }] } }
---
apiVersion: v1
kind: Service
metadata: { name: svc }
`,
  });
  const loaded = await loadDeclarations([path.join(dir, 'bad.yaml')], { cwd: dir });
  const file = path.join(dir, 'bad.yaml');
  t.deepEqual(loaded.errors.map(problemLine), [
    `${file} (document 2): pod/Bad_Name: metadata.name: must be a lowercase RFC 1123 subdomain`,
    `${file} (document 2): pod/Bad_Name: spec.containers[0].image: Invalid input: expected string, received number`,
    `${file} (document 2): pod/Bad_Name: spec.containers[0].env[0].name: not a valid environment variable name`,
    `${file} (document 3): deployment/many: spec.replicas: not supported (a host runs one copy of a system container; use replicas: 1)`,
    `${file} (document 4): service/svc: kind: "Service" not supported (Pod, DaemonSet, Deployment or ConfigMap)`,
  ]);
  // The memory quantity is checked once the document's types are right: fix the rest and it shows.
  const again = await tree(t, { 'p.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: a, image: x, resources: { limits: { memory: lots } } }] }\n' });
  t.deepEqual((await loadDeclarations([again])).errors.map(problemLine), [`${path.join(again, 'p.yaml')}: pod/p: spec.containers[0].resources.limits.memory: "lots" is not a memory quantity (e.g. 128Mi)`]);
});

test('YAML syntax errors name the line; duplicate keys are refused; missing ConfigMaps and volumes are named', async (t) => {
  const dir = await tree(t, {
    'a.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec:\n  containers: [ { name: x, image: y }\n',
    'b.yaml': 'apiVersion: v1\nkind: Pod\nkind: Pod\n',
    'c.yaml': `apiVersion: v1
kind: Pod
metadata: { name: c }
spec:
  containers:
    - name: x
      image: y
      env: [{ name: A, valueFrom: { configMapKeyRef: { name: nowhere, key: k } } }]
      volumeMounts: [{ name: missing, mountPath: /m }]
`,
    'd.txt': 'ignored: not a .yaml file',
  });
  const lines = (await loadDeclarations([dir], { cwd: dir })).errors.map(problemLine);
  t.is(lines.length, 4, lines.join('\n'));
  t.regex(lines[0]!, new RegExp(`^${dir}/a.yaml:\\d+:\\d+: `));
  t.regex(lines[1]!, new RegExp(`^${dir}/b.yaml:3:1: .*unique`));
  t.is(lines[2], `${dir}/c.yaml: pod/c: spec.containers[0].env[0].valueFrom.configMapKeyRef.name: ConfigMap nowhere is not among the applied files`);
  t.is(lines[3], `${dir}/c.yaml: pod/c: spec.containers[0].volumeMounts[0].name: no volume named missing in spec.volumes`);
});

test('hostPath types are checked before anything changes', async (t) => {
  const dir = await tree(t, { 'f.txt': 'x' });
  const pod = (p: string, type: string) => `apiVersion: v1\nkind: Pod\nmetadata: { name: h }\nspec:\n  containers: [{ name: x, image: y, volumeMounts: [{ name: v, mountPath: /v }] }]\n  volumes: [{ name: v, hostPath: { path: ${p}, type: ${type} } }]\n`;
  const files = await tree(t, {
    '1.yaml': pod(path.join(dir, 'f.txt'), 'Directory'),
  });
  t.deepEqual((await loadDeclarations([files])).errors.map((e) => e.message), [`host path ${path.join(dir, 'f.txt')}: is not a directory`]);
  const ok = await tree(t, { '1.yaml': pod(path.join(dir, 'new-dir'), 'DirectoryOrCreate') });
  t.deepEqual((await loadDeclarations([ok])).errors, []);
});

test('a paunch file: names, command, environment and env_file, volumes, health check, order', async (t) => {
  const dir = await tree(t, {
    'env/db.env': '# comment\nDB_HOST=127.0.0.1\nDB_PORT=3306\n',
    'step_1.json': JSON.stringify({
      mysql: { image: 'mysql:1', start_order: 0, net: 'host', environment: ['A=1'], env_file: 'env/db.env', volumes: ['/var/lib/mysql:/var/lib/mysql:rw,z'], healthcheck: { test: '/openstack/healthcheck' } },
      keystone_db_sync: { image: 'keystone:1', start_order: 1, detach: false, command: "sh -c 'keystone-manage db_sync'", user: 'keystone', privileged: true, exit_codes: [0, 3] },
      keystone: { image: 'keystone:1', start_order: 2, depends_on: ['mysql'], restart: 'always', cap_add: ['NET_ADMIN'], mem_limit: '512m', cpu_shares: 512, pid: 'host' },
    }),
  });
  const loaded = await loadDeclarations([path.join(dir, 'step_1.json')]);
  t.deepEqual(loaded.errors.map(problemLine), []);
  t.deepEqual(loaded.formats.map((f) => f.format), ['paunch']);
  const [mysql, sync, keystone] = loaded.containers;
  t.deepEqual(mysql!.spec, { network: 'host', env: { DB_HOST: '127.0.0.1', DB_PORT: '3306', A: '1' }, mounts: [{ type: 'bind', source: '/var/lib/mysql', destination: '/var/lib/mysql' }] });
  t.deepEqual(mysql!.liveness?.probe, { type: 'shell', script: '/openstack/healthcheck' });
  t.is(mysql!.liveness?.intervalSeconds, 60);
  t.deepEqual([sync!.role, sync!.spec.args, sync!.spec.user, sync!.spec.privileged, sync!.after, sync!.spec.successExitCodes], ['oneshot', ['sh', '-c', 'keystone-manage db_sync'], 'keystone', true, ['mysql'], [3]]);
  t.deepEqual([keystone!.after, keystone!.wants, keystone!.restart, keystone!.spec.hostPid], [['keystone_db_sync', 'mysql'], ['mysql'], 'always', true]);
  t.deepEqual(keystone!.spec.resources, { memoryBytes: 512 << 20, cpuWeight: 50 });
  t.deepEqual(keystone!.spec.capabilities, { add: ['NET_ADMIN'] });
  // An edited env_file is a change of the containers that read it (paunch itself missed it).
  const digest = async () => Object.fromEntries((await loadDeclarations([path.join(dir, 'step_1.json')])).containers.map((c) => [c.name, specDigest(c, 'sha256:m', new Map())]));
  const before = await digest();
  await writeFile(path.join(dir, 'env/db.env'), 'DB_HOST=127.0.0.1\nDB_PORT=3307\n');
  const after = await digest();
  t.not(after.mysql, before.mysql);
  t.is(after.keystone, before.keystone);
});

test('paunch: unsupported fields and bad values, one line each', async (t) => {
  const dir = await tree(t, {
    'c.yaml': 'web:\n  image: w\n  volumes_from: [db]\n  net: bridge\n  volumes: ["data:/data", "/a:/b:shared"]\n  depends_on: [web]\n',
  });
  const lines = (await loadDeclarations([path.join(dir, 'c.yaml')], { cwd: dir })).errors.map(problemLine);
  const file = path.join(dir, 'c.yaml');
  t.deepEqual(lines, [
    `${file}: paunch: web.net: not supported (net: "host" or "none"; container:NAME and bridges are not offered)`,
    `${file}: paunch: web.volumes_from: not supported (name the volumes themselves)`,
  ]);
  await writeFile(file, 'web:\n  image: w\n  volumes: ["data:/data", "/a:/b:shared"]\n');
  t.deepEqual((await loadDeclarations([file])).errors.map(problemLine), [
    `${file}: paunch: web.volumes[0]: "data:/data": expected HOST-PATH:CONTAINER-PATH[:OPTIONS], both absolute (named volumes are not supported)`,
    `${file}: paunch: web.volumes[1]: option shared not supported (ro, rw, z, Z)`,
  ]);
});

test('stdin, cycles and names declared twice', async (t) => {
  const yaml = 'a:\n  image: x\n  depends_on: [b]\nb:\n  image: x\n  depends_on: [a]\n';
  const loaded = await loadDeclarations(['-'], { stdin: Readable.from([Buffer.from(yaml)]) });
  t.deepEqual(loaded.errors.map(problemLine), ['stdin: paunch: the start order has a cycle: a → b → a']);
  const dir = await tree(t, { '1.yaml': 'a:\n  image: x\n', '2.yaml': 'a:\n  image: y\n' });
  t.deepEqual((await loadDeclarations([dir])).errors.map((e) => e.message), [`container a is declared twice (also in ${dir}/1.yaml: paunch a)`]);
  await t.throwsAsync(loadDeclarations([path.join(dir, 'nothing')]), { message: /no such file or directory/ });
});

test('the spec digest follows content, not formatting; a ConfigMap edit changes only its users', async (t) => {
  const dir = await tree(t, { 'host.conf': 'one\n' });
  const host = path.join(dir, 'host.conf');
  const a = await tree(t, { 'c.yaml': configMap, 'p.yaml': webPod(host) });
  // The same objects, in one file, as JSON documents (YAML's flow style).
  const parse = (await import('yaml')).parseAllDocuments;
  const objects = [...parse(configMap), ...parse(webPod(host))].map((d) => JSON.stringify(d.toJS()));
  const b = await tree(t, { 'all.yaml': objects.join('\n---\n') });
  const digests = async (dirs: string[]) => {
    const loaded = await loadDeclarations(dirs);
    t.deepEqual(loaded.errors, []);
    return Object.fromEntries(loaded.containers.map((c) => [c.name, specDigest(c, 'sha256:m', loaded.fileDigests)]));
  };
  const first = await digests([a]);
  t.deepEqual(await digests([b]), first);
  await writeFile(path.join(a, 'c.yaml'), configMap.replace('GREETING: hello', 'GREETING: bonjour'));
  const edited = await digests([a]);
  t.not(edited['web-server'], first['web-server']);
  t.not(edited['web-client'], first['web-client']);
  t.is(edited['web-prepare'], first['web-prepare']);
  await writeFile(host, 'two\n');
  const fileEdited = await digests([a]);
  t.not(fileEdited['web-server'], edited['web-server']);
  t.is(fileEdited['web-client'], edited['web-client']);
  // A moved tag: another manifest digest.
  t.not(specDigest((await loadDeclarations([a])).containers[0]!, 'sha256:other', new Map()), first['web-prepare']);
});

test('paunch action exec: a command in another container, in start order; what it cannot use is named', async (t) => {
  const dir = await tree(t, {
    'step_2.json': JSON.stringify({
      mysql: { image: 'mysql:1', start_order: 0 },
      mysql_init_users: { action: 'exec', start_order: 1, command: ['mysql', 'sh', '-c', 'mysql < /init.sql'], user: 'root', exit_codes: [0, 2] },
      keystone: { image: 'keystone:1', start_order: 2 },
    }),
    'bad.json': JSON.stringify({
      a: { action: 'exec', command: 'onlyone' },
      b: { action: 'exec', command: ['mysql', 'true'], environment: ['A=1'], privileged: true },
      c: { action: 'exec', command: ['runs_once', 'true'] },
      runs_once: { image: 'x', detach: false },
    }),
  });
  const loaded = await loadDeclarations([path.join(dir, 'step_2.json')]);
  t.deepEqual(loaded.errors.map(problemLine), []);
  t.deepEqual(loaded.execs, [
    {
      name: 'mysql_init_users',
      target: 'mysql',
      command: ['sh', '-c', 'mysql < /init.sql'],
      user: 'root',
      exitCodes: [0, 2],
      after: ['mysql'],
      origin: { file: path.join(dir, 'step_2.json'), path: path.join(dir, 'step_2.json'), document: 1, documents: 1, object: 'paunch', field: 'mysql_init_users' },
    },
  ]);
  t.deepEqual(loaded.containers.map((c) => c.name), ['mysql', 'keystone']);
  const file = path.join(dir, 'bad.json');
  t.deepEqual((await loadDeclarations([file])).errors.map(problemLine), [
    `${file}: paunch: a.command: an exec needs the container to run in and a command: [CONTAINER, COMMAND, ARG...]`,
    `${file}: paunch: b.environment: not supported with action: exec (the command runs in a container that is already running)`,
    `${file}: paunch: b.privileged: not supported with action: exec (the command runs with the privileges of the container it runs in)`,
    `${file}: paunch: c.command[0]: runs_once runs to completion (detach: false): nothing runs to exec in`,
  ]);
});
