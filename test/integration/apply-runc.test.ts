// apply where no systemd runs (runc runs the containers directly), through the CLI, a real
// registry and ostree: a moved tag is seen with --pull (and only then), and one container that
// fails does not keep the others from converging; an update whose probe fails is rolled back;
// containers apply did not make are never touched; generate kube output applied into a fresh
// root gives the same spec digests; --ignore-unsupported warns.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyCli, pushPodImage } from '../helpers/apply-kit.js';
import { tempDir } from '../helpers/cli.js';
import { cleanupRunc, isolatedEnv } from '../helpers/fault-kit.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';

const test = testNeeding(needs.runc, needs.registry, needs.busybox);

const prefix = `ar${process.pid % 100000}`;
let registry: RegistryServer | undefined;

test.before(async () => {
  registry = await startRegistry();
});

test.after.always(async () => {
  await cleanupRunc(prefix);
  await registry?.stop();
});

test.serial('a moved tag: unchanged without --pull, configured with it, and the new image runs', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const image = await pushPodImage(registry!.host, 'apply/moving', 'stable', 'first');
  const file = path.join(dir, 'site.json');
  await writeFile(file, JSON.stringify({ [`${prefix}web`]: { image, net: 'host' } }));
  t.teardown(async () => void (await applyCli(['delete', '-f', file], env)));
  t.is((await applyCli(['apply', '-f', file], env)).exitCode, 0);
  const tag = async () => (await applyCli(['exec', `${prefix}web`, 'cat', '/etc/image-tag'], env)).stdout.trim();
  t.is(await tag(), 'first');

  await pushPodImage(registry!.host, 'apply/moving', 'stable', 'second');
  const stale = await applyCli(['apply', '-f', file], env);
  t.regex(stale.stdout, /0 created, 0 configured, 1 unchanged, 0 pruned/);
  t.is(await tag(), 'first');
  const pulled = await applyCli(['apply', '--pull', '-f', file], env);
  t.is(pulled.exitCode, 0, pulled.stderr);
  t.regex(pulled.stdout, new RegExp(`^container/${prefix}web configured$`, 'm'));
  t.is(await tag(), 'second');
  t.regex((await applyCli(['apply', '--pull', '-f', file], env)).stdout, /0 created, 0 configured, 1 unchanged, 0 pruned/);
});

test.serial('one failing container: the others converge, the exit is 1 and the summary names it', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const image = await pushPodImage(registry!.host, 'apply/fails', 'v1');
  const file = path.join(dir, 'step.json');
  await writeFile(
    file,
    JSON.stringify({
      [`${prefix}crash`]: { image, net: 'host', command: ['sh', '-c', 'echo no config here; exit 3'], start_order: 0 },
      [`${prefix}fine`]: { image, net: 'host', start_order: 1 },
    }),
  );
  t.teardown(async () => void (await applyCli(['delete', '-f', file], env)));
  const applied = await applyCli(['apply', '-f', file], env);
  t.is(applied.exitCode, 1);
  const lines = applied.stdout.trim().split('\n');
  t.regex(lines[0]!, new RegExp(`^container/${prefix}crash failed: .*did not stay running`));
  t.deepEqual(lines.slice(1), [`container/${prefix}fine created`, `1 created, 0 configured, 0 unchanged, 0 pruned, 1 failed (${prefix}crash)`]);
  t.is((await applyCli(['exec', `${prefix}fine`, 'cat', '/etc/image-tag'], env)).stdout.trim(), 'v1');
});

test.serial('an edit whose probe never passes: the update is rolled back, the old deployment runs on, the exit is 1', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const image = await pushPodImage(registry!.host, 'apply/probed', 'v1');
  const pod = `${prefix}hp`;
  const file = path.join(dir, 'probed.yaml');
  const podFile = (probed: string, word: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${pod} }
spec:
  hostNetwork: true
  containers:
    - name: main
      image: ${image}
      env: [{ name: WORD, value: ${word} }]
      livenessProbe: { exec: { command: [test, -f, ${probed}] }, periodSeconds: 1, failureThreshold: 1 }
`;
  await writeFile(file, podFile('/etc/image-tag', 'one'));
  t.teardown(async () => void (await applyCli(['delete', '-f', file], env)));
  const first = await applyCli(['apply', '-f', file], env);
  t.is(first.exitCode, 0, first.stderr);
  await writeFile(file, podFile('/missing', 'two'));
  const edited = await applyCli(['apply', '-f', file], env);
  t.is(edited.exitCode, 1, edited.stderr);
  t.regex(edited.stdout, new RegExp(`^container/${pod}-main failed: .*new deployment unhealthy.*rolled back to revision 1$`, 'm'));
  t.regex(edited.stdout, new RegExp(`0 created, 0 configured, 0 unchanged, 0 pruned, 1 failed \\(${pod}-main\\)`));
  const status = JSON.parse((await applyCli(['status', '--json', `${pod}-main`], env)).stdout) as { revision: number; state: string };
  t.deepEqual([status.revision, status.state], [1, 'running']);
  t.is((await applyCli(['exec', `${pod}-main`, 'sh', '-c', 'echo $WORD'], env)).stdout.trim(), 'one');
  // The record is the old deployment's: the files as they were need nothing.
  await writeFile(file, podFile('/etc/image-tag', 'one'));
  t.regex((await applyCli(['apply', '-f', file], env)).stdout, /0 created, 0 configured, 1 unchanged, 0 pruned/);
});

test.serial('containers apply did not make are never touched: a clash is an error naming the owner, and nothing changes', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const image = await pushPodImage(registry!.host, 'apply/clash', 'v1', 'by-hand');
  const byHand = `${prefix}hand`;
  const theirs = `${prefix}theirs`;
  const installed = await applyCli(['install', '--system', '--name', byHand, image], env);
  t.is(installed.exitCode, 0, installed.stderr);
  t.teardown(async () => void (await applyCli(['uninstall', byHand], env)));
  const other = path.join(dir, 'other.json');
  await writeFile(other, JSON.stringify({ [theirs]: { image, net: 'host' } }));
  t.teardown(async () => void (await applyCli(['delete', '-f', other], env)));
  t.is((await applyCli(['apply', '-f', other], env)).exitCode, 0);

  const mine = path.join(dir, 'mine.json');
  const declared = { image, net: 'host', environment: ['CHANGED=yes'] };
  await writeFile(mine, JSON.stringify({ [byHand]: declared, [theirs]: declared, [`${prefix}new`]: { image, net: 'host' } }));
  const clash = await applyCli(['apply', '-f', mine], env);
  t.is(clash.exitCode, 1);
  t.deepEqual(clash.stderr.split('\n').filter((l) => l.startsWith('error: ')), [
    `error: ${mine}: paunch: ${byHand}: container ${byHand} already exists, installed by hand (not by apply): not touched`,
    `error: ${mine}: paunch: ${theirs}: container ${theirs} already exists, owned by config id other: not touched`,
    'error: nothing was changed: 2 problems in the files',
  ]);
  const listed = JSON.parse((await applyCli(['containers', 'list', '--json'], env)).stdout) as { name: string; config?: string }[];
  t.deepEqual(listed.map((c) => [c.name, c.config ?? '-']).sort(), [[byHand, '-'], [theirs, 'other']]);
  const table = (await applyCli(['containers', 'list'], env)).stdout;
  t.regex(table, /^NAME\s.*\sCONFIG\s/);
  t.regex(table, new RegExp(`^${theirs}\\s.*\\sother\\s+ostree\\s`, 'm'));
  t.regex(table, new RegExp(`^${byHand}\\s.*\\s-\\s+ostree\\s`, 'm'));
  t.is((await applyCli(['exec', byHand, 'sh', '-c', 'cat /etc/image-tag; echo "${CHANGED:-unset}"'], env)).stdout, 'by-hand\nunset');
  t.is((await applyCli(['exec', theirs, 'sh', '-c', 'echo "${CHANGED:-unset}"'], env)).stdout, 'unset');
});

test.serial('generate kube applied into a fresh root gives the same containers: the original files then change nothing there', async (t) => {
  const dir = await tempDir(t);
  const first = isolatedEnv(path.join(dir, 'first'));
  const fresh = isolatedEnv(path.join(dir, 'fresh'));
  const image = await pushPodImage(registry!.host, 'apply/roundtrip', 'v1');
  const pod = `${prefix}rt`;
  await writeFile(path.join(dir, 'motd'), 'from the host\n');
  const original = path.join(dir, 'site.yaml');
  await writeFile(
    original,
    `apiVersion: v1
kind: ConfigMap
metadata: { name: conf }
data: { app.conf: "port=1\\n", MODE: prod }
---
apiVersion: v1
kind: Pod
metadata: { name: ${pod} }
spec:
  hostNetwork: true
  restartPolicy: OnFailure
  containers:
    - name: main
      image: ${image}
      args: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
      env: [{ name: MODE, valueFrom: { configMapKeyRef: { name: conf, key: MODE } } }]
      workingDir: /tmp
      volumeMounts:
        - { name: app, mountPath: /etc/app }
        - { name: motd, mountPath: /etc/motd, readOnly: true }
      resources: { limits: { memory: 64Mi, cpu: 250m } }
      livenessProbe: { exec: { command: [test, -f, /etc/app/app.conf] }, periodSeconds: 5 }
  volumes:
    - { name: app, configMap: { name: conf } }
    - { name: motd, hostPath: { path: ${dir}/motd, type: File } }
`,
  );
  const applied = await applyCli(['apply', '-f', original], first);
  t.is(applied.exitCode, 0, applied.stderr);
  const generated = await applyCli(['generate', 'kube', `${pod}-main`], first);
  t.is(generated.exitCode, 0, generated.stderr);
  t.is((await applyCli(['delete', '-f', original], first)).exitCode, 0);
  // The same config id (the file's base name) in a root that never saw the original files.
  await mkdir(path.join(dir, 'generated'));
  const copy = path.join(dir, 'generated', 'site.yaml');
  await writeFile(copy, generated.stdout);
  t.teardown(async () => void (await applyCli(['delete', '-f', copy], fresh)));
  const made = await applyCli(['apply', '-f', copy], fresh);
  t.is(made.exitCode, 0, `${made.stderr}\n${generated.stdout}`);
  t.regex(made.stdout, /1 created, 0 configured, 0 unchanged, 0 pruned/);
  const seen = await applyCli(['exec', `${pod}-main`, 'sh', '-c', 'echo "$MODE"; pwd; cat /etc/app/app.conf /etc/motd'], fresh);
  t.is(seen.stdout, 'prod\n/tmp\nport=1\nfrom the host');
  const again = await applyCli(['apply', '-f', original], fresh);
  t.is(again.exitCode, 0, again.stderr);
  t.regex(again.stdout, /0 created, 0 configured, 1 unchanged, 0 pruned/, `${again.stdout}\n${generated.stdout}`);
});

test.serial('--ignore-unsupported: each unsupported field is a warning line and the rest is applied; without it nothing is', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const file = path.join(dir, 'loose.yaml');
  const pod = `${prefix}lo`;
  await writeFile(
    file,
    `apiVersion: v1\nkind: Pod\nmetadata: { name: ${pod} }\nspec:\n  hostNetwork: true\n  nodeSelector: { disk: ssd }\n  containers:\n    - name: main\n      image: ${registry!.host}/apply/loose:v1\n      lifecycle: { preStop: { exec: { command: ["true"] } } }\n`,
  );
  const strict = await applyCli(['apply', '--dry-run', '-f', file], env);
  t.is(strict.exitCode, 1);
  t.regex(strict.stderr, /error: nothing was changed: 2 problems in the files/);
  const loose = await applyCli(['apply', '--dry-run', '--ignore-unsupported', '-f', file], env);
  t.is(loose.exitCode, 0, loose.stderr);
  t.deepEqual(loose.stderr.split('\n').filter((l) => l.startsWith('warning: ')), [
    `warning: ${file}: pod/${pod}: spec.containers[0].lifecycle: not supported (no postStart/preStop hooks)`,
    `warning: ${file}: pod/${pod}: spec.nodeSelector: not supported (there is one node: this host)`,
  ]);
  t.deepEqual(loose.stdout.trim().split('\n'), [`container/${pod}-main created (dry run)`, `pod/${pod} created (dry run)`, '1 created, 0 configured, 0 unchanged, 0 pruned']);
  t.deepEqual(JSON.parse((await applyCli(['containers', 'list', '--json'], env)).stdout), []);
});
