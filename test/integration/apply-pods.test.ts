// apply of Kubernetes files end to end, through the CLI, a real registry, ostree, runc and the
// systemd harness: a directory with a ConfigMap and two pods (one of two containers sharing a
// private network namespace, an init container, an emptyDir, a configMap volume, a hostPath
// file, a liveness probe). Then: a second apply changes nothing (no restart), a ConfigMap edit
// updates only its users, a pod removed from the directory is pruned, --dry-run changes
// nothing, bad files change nothing, generate kube is read back, delete -f removes it all.
// Serial: one harness.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyCli, harnessEnv, pushPodImage, startTimes, writeTree } from '../helpers/apply-kit.js';
import { cleanupRunc } from '../helpers/fault-kit.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { removeHarnessUnitCgroups, SystemdHarness, testBaseDir } from '../helpers/systemd-harness.js';
import { waitFor as waitForCheck } from '../helpers/wait-for.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox, { tools: ['ip'] });

const pod = `ap${process.pid % 100000}`;
let registry: RegistryServer | undefined;
let harness: SystemdHarness | undefined;
let base = '';
let image = '';
let env: Record<string, string> = {};

const configMap = (greeting: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: site }
data:
  GREETING: ${greeting}
  index.html: "<p>served from the pod</p>\\n"
`;

const webPod = () => `# A pod of two containers on their own loopback, prepared by an init container.
apiVersion: v1
kind: Pod
metadata: { name: ${pod}web }
spec:
  restartPolicy: Always
  initContainers:
    - name: prepare
      image: ${image}
      command: [sh, -c, "echo prepared > /work/ready"]
      volumeMounts: [{ name: work, mountPath: /work }]
  containers:
    - name: server
      image: ${image}
      # The shell is PID 1, which ignores SIGTERM unless it traps it: stop at once, not after TimeoutStopSec.
      command: [sh, -c, "test -f /work/ready || exit 1; httpd -f -p 127.0.0.1:8080 -h /www & trap 'kill $!; exit 0' TERM; wait"]
      volumeMounts:
        - { name: site, mountPath: /www, readOnly: true }
        - { name: work, mountPath: /work }
        - { name: motd, mountPath: /etc/motd, readOnly: true }
      ports: [{ name: web, containerPort: 8080 }]
      # Probed by syscontainer itself, in the pod's network namespace: no HTTP client in the image needed.
      livenessProbe:
        httpGet: { path: /index.html, port: web }
        periodSeconds: 2
    - name: client
      image: ${image}
      readinessProbe:
        exec: { command: [test, -f, /work/fetched] }
        periodSeconds: 2
      command: [sh, -c, "trap 'exit 0' TERM; while true; do wget -q -O /work/fetched http://127.0.0.1:8080/ && echo \\"$GREETING\\" > /work/greeting; sleep 1; done"]
      env: [{ name: GREETING, valueFrom: { configMapKeyRef: { name: site, key: GREETING } } }]
      volumeMounts: [{ name: work, mountPath: /work }]
  volumes:
    - { name: site, configMap: { name: site, items: [{ key: index.html, path: index.html }] } }
    - { name: work, emptyDir: {} }
    - { name: motd, hostPath: { path: ${base}/motd, type: File } }
`;

const dbPod = () => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${pod}db }
spec:
  template:
    spec:
      hostNetwork: true
      containers: [{ name: main, image: ${image}, args: [sh, -c, "echo db; trap 'exit 0' TERM; while true; do sleep 1; done"] }]
`;

const names = [`${pod}web-prepare`, `${pod}web-server`, `${pod}web-client`, `${pod}db-main`];
const dir = () => path.join(base, 'pods');

async function execIn(name: string, command: string[]): Promise<string> {
  const result = await applyCli(['exec', name, ...command], env);
  return result.exitCode === 0 ? result.stdout.trim() : `(exit ${result.exitCode}: ${result.stderr.trim()})`;
}

async function healthOf(name: string): Promise<string | undefined> {
  const result = await applyCli(['status', '--json', name], env);
  return result.exitCode === 0 ? (JSON.parse(result.stdout) as { health?: { status: string } }).health?.status : undefined;
}

const waitFor = (what: string, check: () => Promise<boolean>, ms = 20_000) => waitForCheck(what, check, ms);

test.before(async () => {
  base = await testBaseDir(`apply-pods-${process.pid}`);
  registry = await startRegistry();
  image = await pushPodImage(registry.host, 'apply/pod', 'v1');
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
  env = harnessEnv(base, harness);
  await writeFile(path.join(base, 'motd'), 'welcome\n');
});

test.after.always(async () => {
  if (harness !== undefined) await applyCli(['delete', '-f', dir()], env).catch(() => undefined);
  await harness?.stop();
  await cleanupRunc(pod);
  await registry?.stop();
  if (base !== '') await rm(base, { recursive: true, force: true });
  removeHarnessUnitCgroups(pod);
});

test.serial('bad files change nothing: each problem one line naming file, object and field', async (t) => {
  await writeTree(dir(), {
    'bad.yaml': `apiVersion: v1\nkind: Pod\nmetadata: { name: ${pod}bad }\nspec:\n  containers:\n    - name: a\n      image: ${image}\n      ports: [{ containerPort: 80, hostPort: 80 }]\n      stdin: yes-please\n`,
    'good.yaml': dbPod(),
  });
  const result = await applyCli(['apply', '-f', dir()], env);
  t.is(result.exitCode, 1);
  const lines = result.stderr.trim().split('\n');
  t.deepEqual(lines, [
    `error: ${dir()}/bad.yaml: pod/${pod}bad: spec.containers[0].ports[0].hostPort: not supported (system containers share the pod's network; use hostNetwork)`,
    `error: ${dir()}/bad.yaml: pod/${pod}bad: spec.containers[0].stdin: not supported (system containers run without a terminal)`,
    'error: nothing was changed: 2 problems in the files',
  ]);
  const listed = await applyCli(['containers', 'list', '--json'], env);
  t.deepEqual(JSON.parse(listed.stdout), []);
});

test.serial('apply creates the pods; the containers of a pod talk on 127.0.0.1; a second apply changes nothing', async (t) => {
  await writeTree(dir(), { 'a-site.yaml': configMap('hello'), 'web.yaml': webPod(), 'db.yaml': dbPod() });
  const first = await applyCli(['apply', '-f', dir()], env);
  t.is(first.exitCode, 0, first.stderr);
  t.deepEqual(first.stdout.trim().split('\n'), [
    `container/${pod}db-main created`,
    `container/${pod}web-prepare created`,
    `container/${pod}web-server created`,
    `container/${pod}web-client created`,
    `pod/${pod}db created`,
    `pod/${pod}web created`,
    '4 created, 0 configured, 0 unchanged, 0 pruned',
  ]);
  await waitFor('the client to fetch from the server', async () => (await execIn(`${pod}web-client`, ['cat', '/work/fetched'])) === '<p>served from the pod</p>');
  // The probes are health checks: the server's httpGet liveness, the client's exec readiness.
  await waitFor('both probes to pass', async () => (await healthOf(`${pod}web-server`)) === 'healthy' && (await healthOf(`${pod}web-client`)) === 'healthy', 60_000);
  // The init container comes first, at boot too: the pod's containers require it.
  const serverUnit = await readFile(path.join(harness!.unitDir, `${pod}web-server.service`), 'utf8');
  t.regex(serverUnit, new RegExp(`^Requires=.*${pod}web-prepare\\.service`, 'm'));
  t.regex(serverUnit, new RegExp(`^After=.*${pod}web-prepare\\.service`, 'm'));
  t.regex(serverUnit, /^Restart=always$/m);
  t.is(await execIn(`${pod}web-client`, ['cat', '/work/greeting']), 'hello');
  t.is(await execIn(`${pod}web-server`, ['cat', '/work/ready']), 'prepared');
  t.is(await execIn(`${pod}web-server`, ['cat', '/etc/motd']), 'welcome');
  // Its own network: the host's loopback does not have the server.
  const hostSide = await harness!.exec(['sh', '-c', 'wget -q -O - http://127.0.0.1:8080/ 2>&1 || busybox wget -q -O - http://127.0.0.1:8080/ 2>&1; true']);
  t.notRegex(hostSide.stdout, /served from the pod/);
  const listed = JSON.parse((await applyCli(['containers', 'list', '--json', '--filter', `config=pods`], env)).stdout) as { name: string; config?: string }[];
  t.deepEqual(listed.map((c) => c.name).sort(), [...names].sort());
  t.true(listed.every((c) => c.config === 'pods'));

  const before = await startTimes(harness!, names);
  const second = await applyCli(['apply', '-f', dir()], env);
  t.is(second.exitCode, 0, second.stderr);
  t.deepEqual(second.stdout.trim().split('\n').slice(-1), ['0 created, 0 configured, 4 unchanged, 0 pruned']);
  t.deepEqual(await startTimes(harness!, names), before);
});

test.serial('a ConfigMap edit updates only the containers that use it; --dry-run and prune', async (t) => {
  await writeFile(path.join(dir(), 'a-site.yaml'), configMap('bonjour'));
  const before = await startTimes(harness!, names);
  const edited = await applyCli(['apply', '-f', dir()], env);
  t.is(edited.exitCode, 0, edited.stderr);
  t.true(edited.stdout.includes(`container/${pod}web-client configured`), edited.stdout);
  t.regex(edited.stdout, /0 created, 1 configured, 3 unchanged, 0 pruned/);
  const after = await startTimes(harness!, names);
  for (const name of names.filter((n) => n !== `${pod}web-client`)) t.is(after[name], before[name], name);
  t.not(after[`${pod}web-client`], before[`${pod}web-client`]);
  await waitFor('the new greeting', async () => (await execIn(`${pod}web-client`, ['cat', '/work/greeting'])) === 'bonjour');

  await rm(path.join(dir(), 'db.yaml'));
  const dry = await applyCli(['apply', '--dry-run', '-f', dir()], env);
  t.is(dry.exitCode, 0, dry.stderr);
  t.true(dry.stdout.includes(`container/${pod}db-main pruned (dry run)`), dry.stdout);
  t.is(await execIn(`${pod}db-main`, ['cat', '/etc/image-tag']), 'v1');
  const pruned = await applyCli(['apply', '-f', dir()], env);
  t.is(pruned.exitCode, 0, pruned.stderr);
  t.true(pruned.stdout.includes(`container/${pod}db-main pruned`), pruned.stdout);
  t.false(existsSync(path.join(env.SYSCONTAINER_ROOT!, `${pod}db-main`)));
});

test.serial('generate kube writes what apply reads back; delete -f removes everything apply made', async (t) => {
  const generated = await applyCli(['generate', 'kube', `${pod}web-server`, `${pod}web-client`, `${pod}web-prepare`], env);
  t.is(generated.exitCode, 0, generated.stderr);
  t.regex(generated.stdout, new RegExp(`kind: Pod\\nmetadata:\\n  name: ${pod}web`));
  const out = path.join(base, 'generated');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'pods.yaml'), generated.stdout);
  // Applied under the same config id into the same root: the same spec digests, so nothing changes.
  const again = await applyCli(['apply', '--config-id', 'pods', '--no-prune', '-f', out], env);
  t.is(again.exitCode, 0, again.stderr);
  t.regex(again.stdout, /0 created, 0 configured, 3 unchanged, 0 pruned/);

  const deleted = await applyCli(['delete', '-f', dir()], env);
  t.is(deleted.exitCode, 0, deleted.stderr);
  t.deepEqual(JSON.parse((await applyCli(['containers', 'list', '--json'], env)).stdout), []);
  t.false(existsSync(path.join(env.SYSCONTAINER_ROOT!, '.pods', `${pod}web`)));
  t.false(existsSync(path.join(harness!.unitDir, `syscontainer-pod-${pod}web.service`)));
  t.is((await harness!.exec(['test', '-e', `/run/netns/syscontainer-${pod}web`])).exitCode, 1);
  t.is(await readFile(path.join(base, 'motd'), 'utf8'), 'welcome\n');
});

test.serial('a paunch file: start_order and depends_on order the apply and the boot; a health check', async (t) => {
  const paunch = path.join(base, 'step_1.json');
  const service = (word: string) => ['sh', '-c', `echo ${word} > /tmp/up; trap 'exit 0' TERM; while true; do sleep 1; done`];
  await writeFile(
    paunch,
    JSON.stringify({
      [`${pod}worker`]: { image, command: service('worker'), start_order: 2, depends_on: [`${pod}api`], restart: 'always', net: 'host' },
      [`${pod}db`]: { image, command: service('db'), start_order: 0, net: 'host', healthcheck: { test: 'test -f /tmp/up' }, check_interval: 2 },
      [`${pod}api`]: { image, command: service('api'), start_order: 1, depends_on: [`${pod}db`], environment: ['ROLE=api'], net: 'host' },
      // Between the db and the api, in the db: what TripleO did with its bootstrap scripts.
      [`${pod}seed`]: { action: 'exec', start_order: 0, command: [`${pod}db`, 'sh', '-c', 'test -f /tmp/up && echo seeded >> /tmp/seeded'], user: 'www' },
    }),
  );
  const order = [`${pod}db`, `${pod}api`, `${pod}worker`];
  const applied = await applyCli(['apply', '-f', paunch], env);
  t.is(applied.exitCode, 0, applied.stderr);
  t.deepEqual(applied.stdout.trim().split('\n'), [
    `container/${pod}db created`,
    `exec/${pod}seed ran`,
    `container/${pod}api created`,
    `container/${pod}worker created`,
    '3 created, 0 configured, 0 unchanged, 0 pruned, 1 exec ran',
  ]);
  t.is(await execIn(`${pod}db`, ['cat', '/tmp/seeded']), 'seeded');
  t.regex(await execIn(`${pod}db`, ['ls', '-n', '/tmp/seeded']), /^\S+\s+\d+\s+33\s+33\s/);
  const listed = JSON.parse((await applyCli(['containers', 'list', '--json', '--filter', 'config=step_1'], env)).stdout) as { name: string }[];
  t.deepEqual(listed.map((c) => c.name).sort(), [...order].sort());
  t.is(await execIn(`${pod}api`, ['sh', '-c', 'echo $ROLE']), 'api');
  const unit = await readFile(path.join(harness!.unitDir, `${pod}worker.service`), 'utf8');
  t.regex(unit, new RegExp(`^After=.*${pod}api\\.service`, 'm'));
  t.regex(unit, new RegExp(`^Wants=.*${pod}api\\.service`, 'm'));
  t.regex(unit, /^Restart=always$/m);
  await waitFor('the db health check to pass', async () => (await healthOf(`${pod}db`)) === 'healthy', 60_000);

  await harness!.reboot();
  env = harnessEnv(base, harness!);
  await waitFor('every container to run after the reboot', async () => {
    const states = await Promise.all(order.map((n) => harness!.exec(['systemctl', 'is-active', `${n}.service`])));
    return states.every((s) => s.stdout.trim() === 'active');
  }, 60_000);
  const times = await startTimes(harness!, order);
  const started = order.map((n) => Number(times[n]));
  t.true(started[0]! > 0 && started[0]! <= started[1]! && started[1]! <= started[2]!, JSON.stringify(times));
  // The containers are left alone; the exec runs again, as paunch ran it on every apply (the
  // db's /tmp is new since the reboot).
  t.regex(await execIn(`${pod}db`, ['cat', '/tmp/seeded']), /No such file/);
  const again = await applyCli(['apply', '-f', paunch], env);
  t.regex(again.stdout, /0 created, 0 configured, 3 unchanged, 0 pruned, 1 exec ran/);
  t.is(await execIn(`${pod}db`, ['cat', '/tmp/seeded']), 'seeded');
  t.deepEqual(await startTimes(harness!, order), times);
  t.is((await applyCli(['apply', '--config-id', 'step_1', '--delete'], env)).exitCode, 0);
  t.deepEqual(JSON.parse((await applyCli(['containers', 'list', '--json'], env)).stdout), []);
});
