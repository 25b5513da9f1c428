// apply where no systemd runs (runc runs the containers directly), through the CLI, a real
// registry and ostree: a moved tag is seen with --pull (and only then), and one container that
// fails does not keep the others from converging.
import { writeFile } from 'node:fs/promises';
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
