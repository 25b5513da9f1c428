// Interop with a real peer, Debian's podman 4.3: a container run by `podman run` and exported
// by `podman kube generate` is applied by syscontainer and runs as podman ran it; what
// `syscontainer generate kube` writes, as a Pod and as a Deployment, is run by `podman kube
// play`. Real registry, ostree and runc (no systemd here: runc runs the containers directly).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyCli, pushPodImage } from '../helpers/apply-kit.js';
import { tempDir } from '../helpers/cli.js';
import { cleanupRunc, isolatedEnv } from '../helpers/fault-kit.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';
import { Podman } from '../helpers/podman.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';

const prefix = `pm${process.pid % 100000}`;
let registry: RegistryServer | undefined;
let image = '';
// kube play's pause image is built from catatonit (scripts/setup-host.sh installs both).
const catatonit = toolPath('/usr/bin/catatonit') ?? toolPath('/usr/libexec/podman/catatonit') ?? '/usr/bin/catatonit';
const test = testNeeding(needs.runc, needs.registry, needs.busybox, { tools: ['podman', catatonit] });

test.before(async () => {
  registry = await startRegistry();
  image = await pushPodImage(registry.host, 'apply/podman', 'v1');
});

test.after.always(async () => {
  await cleanupRunc(prefix);
  await registry?.stop();
});

test.serial('podman run, podman kube generate, syscontainer apply: the same container runs', async (t) => {
  const dir = await tempDir(t);
  const podman = await Podman.create(path.join(dir, 'podman'));
  const env = isolatedEnv(dir);
  const name = `${prefix}a`;
  await writeFile(path.join(dir, 'motd'), 'from the host\n');
  const run = await podman.run(['run', '-d', '--tls-verify=false', '--network', 'host', '--name', name, '-e', 'GREETING=hi from podman', '-v', `${dir}/motd:/etc/motd:ro`, image, 'sh', '-c', 'while true; do sleep 1; done']);
  t.is(run.exitCode, 0, run.stderr);
  t.teardown(async () => void (await podman.run(['rm', '-f', '-t', '0', name])));
  const generated = await podman.run(['kube', 'generate', name]);
  t.is(generated.exitCode, 0, generated.stderr);
  await podman.run(['rm', '-f', '-t', '0', name]);
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, generated.stdout);

  t.teardown(async () => void (await applyCli(['delete', '-f', file], env)));
  const applied = await applyCli(['apply', '-f', file], env);
  t.is(applied.exitCode, 0, `${applied.stderr}\n${generated.stdout}`);
  const container = `${name}-pod-${name}`;
  t.true(applied.stdout.includes(`container/${container} created`), applied.stdout);
  const greeting = await applyCli(['exec', container, 'sh', '-c', 'echo "$GREETING"; cat /etc/motd'], env);
  t.is(greeting.stdout, 'hi from podman\nfrom the host');
  const again = await applyCli(['apply', '-f', file], env);
  t.regex(again.stdout, /0 created, 0 configured, 1 unchanged, 0 pruned/);
});

test.serial('syscontainer generate kube, podman kube play: podman runs what syscontainer ran', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const pod = `${prefix}b`;
  const file = path.join(dir, 'pod.yaml');
  await writeFile(
    file,
    `apiVersion: v1\nkind: Pod\nmetadata: { name: ${pod} }\nspec:\n  hostNetwork: true\n  containers:\n    - name: main\n      image: ${image}\n      command: [sh, -c, "echo \\"$WORD\\" > /tmp/word; while true; do sleep 1; done"]\n      env: [{ name: WORD, value: ostrich }]\n`,
  );
  t.teardown(async () => void (await applyCli(['delete', '-f', file], env)));
  t.is((await applyCli(['apply', '-f', file], env)).exitCode, 0);
  const generated = await applyCli(['generate', 'kube', `${pod}-main`], env);
  t.is(generated.exitCode, 0, generated.stderr);
  const out = path.join(dir, 'generated.yaml');
  await writeFile(out, generated.stdout);
  const podman = await Podman.create(path.join(dir, 'podman'));
  const session = await podman.session([
    ['kube', 'play', '--tls-verify=false', out],
    ['exec', `${pod}-main`, 'sh', '-c', 'sleep 1; cat /tmp/word'],
    ['pod', 'rm', '-f', '-t', '0', pod],
  ]);
  t.is(session.exitCode, 0, `${session.stderr}\n${generated.stdout}`);
  t.regex(session.stdout, /ostrich/);

  // The Deployment form too: Debian's podman 4.3 plays Pods and Deployments.
  const deployment = await applyCli(['generate', 'kube', '--type', 'deployment', `${pod}-main`], env);
  t.is(deployment.exitCode, 0, deployment.stderr);
  t.regex(deployment.stdout, /^kind: Deployment$/m);
  await writeFile(out, deployment.stdout);
  const played = await podman.session([
    ['kube', 'play', '--tls-verify=false', out],
    ['ps', '--format', '{{.Names}} {{.Status}}'],
    ['pod', 'rm', '-f', '-a', '-t', '0'],
  ]);
  t.is(played.exitCode, 0, `${played.stderr}\n${deployment.stdout}`);
  t.regex(played.stdout, new RegExp(`^${pod}\\S*-main Up\\b`, 'm'));
});
