// A host that atomic already manages (test/helpers/atomic-host-state.ts writes it as
// atomic's install did: its ref for the short name, NAME.0 with atomic's info keys,
// tmpfiles-NAME.conf, host files with their checksums), then managed end to end by the CLI
// under a real systemd: listed, status, started, stopped, updated (our record written, values,
// UUID and host file checksums kept), rolled back to atomic's deployment, uninstalled.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { atomicTestSystemHostfs } from '../helpers/atomic-test-images.js';
import { writeAtomicDeployment } from '../helpers/atomic-host-state.js';
import { cli, pushImage, runtimePath } from '../helpers/fault-kit.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { SystemdHarness, testBaseDir } from '../helpers/systemd-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox);

const tag = `${process.pid}`;
const name = `atomichost${tag}`;
let base = '';
let registry: RegistryServer | undefined;
let harness: SystemdHarness | undefined;
let env: Record<string, string> = {};
let atomic: { values: Record<string, string>; installed: Record<string, string> };

const sc = (...args: string[]) => cli(args, env);
const root = () => env.SYSCONTAINER_ROOT!;
const host = (p: string) => path.join(env.SYSCONTAINER_HOST_ROOT!, p);
const inHarness = async (...command: string[]) => (await harness!.exec(command)).stdout;
const activeState = async () => (await inHarness('systemctl', 'show', '-P', 'ActiveState', `${name}.service`)).trim();
const greeting = () => inHarness('cat', `/run/${name}/greeting`);

test.before(async () => {
  base = await testBaseDir(`atomic-host-${tag}`);
  registry = await startRegistry();
  await pushImage(registry.host, 'atomic-test-system-hostfs', 'latest', await atomicTestSystemHostfs());
  const conf = path.join(base, 'registries.conf');
  await writeFile(conf, `unqualified-search-registries = ["${registry.host}"]\n`);
  env = {
    SYSCONTAINER_ROOT: path.join(base, 'root'),
    SYSCONTAINER_UNIT_DIR: path.join(base, 'units'),
    SYSCONTAINER_TMPFILES_DIR: path.join(base, 'tmpfiles'),
    SYSCONTAINER_HOST_ROOT: path.join(base, 'host'),
    SYSCONTAINER_REGISTRIES_CONF: conf,
    SYSCONTAINER_RUNTIME: runtimePath,
    SYSCONTAINER_SETTLE_MS: '1200',
  };
  // The image in the repo as atomic's pull left it, the deployment as its install did.
  const pulled = await sc('pull', `${registry.host}/atomic-test-system-hostfs:latest`);
  if (pulled.exitCode !== 0) throw new Error(pulled.stderr);
  atomic = await writeAtomicDeployment({
    root: root(),
    unitDir: env.SYSCONTAINER_UNIT_DIR!,
    tmpfilesDir: env.SYSCONTAINER_TMPFILES_DIR!,
    hostRoot: env.SYSCONTAINER_HOST_ROOT!,
    name,
    storedName: `${registry.host}/atomic-test-system-hostfs:latest`,
    atomicName: 'atomic-test-system-hostfs',
    runtimePath,
    set: { RECEIVER: 'World' },
  });
  // `systemctl enable` as atomic ran it.
  await mkdir(path.join(base, 'units', 'multi-user.target.wants'), { recursive: true });
  await symlink(`/etc/systemd/system/${name}.service`, path.join(base, 'units', 'multi-user.target.wants', `${name}.service`));
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
  env.SYSCONTAINER_SYSTEMD_NSENTER_PID = String(harness.pid);
  await harness.exec(['systemd-tmpfiles', '--create', path.join(base, 'tmpfiles', `${name}.conf`)]);
});

test.after.always(async () => {
  await harness?.stop();
  await registry?.stop();
  for (const hierarchy of existsSync('/sys/fs/cgroup') ? await readdir('/sys/fs/cgroup') : []) {
    for (const dir of [path.join('/sys/fs/cgroup', hierarchy, name), path.join('/sys/fs/cgroup', hierarchy, 'system.slice', `${name}.service`, 'container'), path.join('/sys/fs/cgroup', hierarchy, 'system.slice', `${name}.service`)]) {
      await execa('rmdir', [dir], { reject: false });
    }
  }
  if (base !== '') await rm(base, { recursive: true, force: true });
});

test.serial("atomic's deployment is listed (its origin: atomic), its status shown, its short-name image found", async (t) => {
  const list = await sc('containers', 'list', '--json');
  t.is(list.exitCode, 0, list.stderr);
  const entry = (JSON.parse(list.stdout) as { name: string; image: string; origin: string }[]).find((e) => e.name === name);
  t.is(entry?.image, 'atomic-test-system-hostfs');
  t.is(entry?.origin, 'atomic');
  // The table's note for a person: BACKEND says who wrote the deployment.
  const row = (await sc('containers', 'list', '--no-trunc')).stdout.split('\n').find((line) => line.startsWith(`${name} `));
  t.true(row?.split(/\s{2,}/).includes('ostree/atomic'), row);
  t.regex((await sc('status', name)).stdout, /Image: +atomic-test-system-hostfs/);
  const images = await sc('images', 'list');
  t.regex(images.stdout, /^atomic-test-system-hostfs\s+latest\s/m, "atomic's ref for the short name");
  t.is((await sc('images', 'info', 'atomic-test-system-hostfs')).exitCode, 0);
});

test.serial("start and stop drive atomic's unit", async (t) => {
  t.is((await sc('start', name)).exitCode, 0);
  await waitFor('the greeting', async () => (await greeting()).startsWith('Hi World'));
  t.is(await activeState(), 'active');
  t.is((await sc('stop', name)).exitCode, 0);
  t.is(await activeState(), 'inactive');
  t.is((await sc('start', name)).exitCode, 0);
  t.is(await activeState(), 'active');
});

test.serial('update writes our record, keeps values and UUID, replaces unmodified host files and keeps modified ones', async (t) => {
  await appendFile(host('/usr/local/lib/secret-message'), 'changed by the admin\n');
  const updated = await sc('update', '--set', 'RECEIVER=Moon', name);
  t.is(updated.exitCode, 0, updated.stderr);
  t.regex(updated.stderr, /kept .*\/usr\/local\/lib\/secret-message: modified since it was installed/);
  t.is(await readlink(path.join(root(), name)), `${name}.1`);
  const info = JSON.parse(await readFile(path.join(root(), `${name}.1`, 'info'), 'utf8')) as { version: number; values: Record<string, string> };
  t.is(info.version, 1, 'our record');
  t.is(info.values.UUID, atomic.values.UUID);
  t.is(info.values.PORT, '8081');
  t.is(info.values.RECEIVER, 'Moon');
  t.is(await readFile(host('/usr/local/lib/secret-message-template'), 'utf8'), 'the secret message for Moon\n', 'unmodified: replaced');
  t.is(await readFile(host('/usr/local/lib/secret-message'), 'utf8'), 'the secret message\nchanged by the admin\n', 'modified: kept');
  await waitFor('the new greeting', async () => (await greeting()).startsWith('Hi Moon'));
  t.is(await activeState(), 'active');
});

test.serial("rollback goes back to atomic's own deployment, which runs again", async (t) => {
  const back = await sc('rollback', name);
  t.is(back.exitCode, 0, back.stderr);
  t.is(path.basename(await readlink(path.join(root(), name))), `${name}.0`);
  await waitFor('the old greeting', async () => (await greeting()).startsWith('Hi World'));
  t.is(await activeState(), 'active');
  t.is(await readFile(host('/usr/local/lib/secret-message-template'), 'utf8'), 'the secret message for World\n');
  t.regex((await sc('containers', 'list', '--json')).stdout, /"origin": "atomic"/);
});

test.serial('uninstall removes what atomic installed, except what the admin modified', async (t) => {
  const removed = await sc('uninstall', name);
  t.is(removed.exitCode, 0, removed.stderr);
  for (const entry of [name, `${name}.0`, `${name}.1`]) t.false(existsSync(path.join(root(), entry)), entry);
  t.false(existsSync(path.join(base, 'units', `${name}.service`)));
  t.false(existsSync(path.join(base, 'tmpfiles', `${name}.conf`)));
  t.false(existsSync(host('/usr/local/lib/secret-message-template')));
  t.false(existsSync(host(`/usr/local/lib/renamed-${name}`)));
  t.false(existsSync(host('/usr/local/placeholder-lib')), 'the empty directory atomic made');
  t.true(existsSync(host('/usr/local/lib/secret-message')), 'modified: kept');
  t.is((await inHarness('systemctl', 'show', '-P', 'LoadState', `${name}.service`)).trim(), 'not-found');
  t.is((await sc('images', 'delete', 'atomic-test-system-hostfs')).exitCode, 0, "atomic's image can be deleted by its name");
});
