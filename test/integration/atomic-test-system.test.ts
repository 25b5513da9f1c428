// Atomic's system-container tests (projectatomic/atomic tests/integration/
// test_system_containers_{install,runtime,images}.sh) as an atomic user types them, against
// images that declare what Atomic's test images declare (test/helpers/atomic-test-images.ts),
// the real registry, ostree, runc and a real systemd (the harness). One registry and one boot
// for the file; the tests run in order and build on each other, as the shell scripts do.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import {
  atomicTestRunonce,
  atomicTestSystem,
  atomicTestSystemHostfs,
  atomicTestSystemUpdate,
  busyboxSh,
  etcdLikeImage,
  etcdLikeMarker,
  etcdLikePrivileges,
} from '../helpers/atomic-test-images.js';
import { cli, pushImage, runtimePath } from '../helpers/fault-kit.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { listTree, SystemdHarness, testBaseDir } from '../helpers/systemd-harness.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox, { tools: ['skopeo', 'python3', 'systemd-analyze'] });

let base = '';
let registry: RegistryServer | undefined;
let harness: SystemdHarness | undefined;
let env: Record<string, string> = {};
const tag = `${process.pid}`;
const name = `ats${tag}`;
const secret = `secret${tag}`;

const root = () => env.SYSCONTAINER_ROOT!;
const sc = (...args: string[]) => cli(args, env);
const inHarness = async (...command: string[]) => (await harness!.exec(command)).stdout;
const greeting = (container: string) => inHarness('cat', `/run/${container}/greeting`);
const activeState = async (container: string) => (await inHarness('systemctl', 'show', '-P', 'ActiveState', `${container}.service`)).trim();

/** The row of `containers list --no-trunc` for NAME, as cells. */
async function tableRow(container: string, ...flags: string[]): Promise<string[] | undefined> {
  const out = await sc('containers', 'list', '--no-trunc', ...flags);
  return out.stdout.split('\n').find((line) => line.split(/\s{2,}/)[0] === container)?.split(/\s{2,}/);
}

/** The entry of `containers list --json` for NAME: its name and state. */
async function listed(container: string): Promise<string[] | undefined> {
  const entries = JSON.parse((await sc('containers', 'list', '--json')).stdout) as { name: string; state: string }[];
  const entry = entries.find((e) => e.name === container);
  return entry === undefined ? undefined : [entry.name, entry.state];
}

// Rewrites a docker-archive's manifest.json RepoTags (argv: FILE TAG), keeping every other member.
const dockerSaveTags = `
import io, json, sys, tarfile

path, tag = sys.argv[1], sys.argv[2]
with tarfile.open(path) as src:
    members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
with tarfile.open(path, 'w') as out:
    for member, data in members:
        if member.name == 'manifest.json':
            manifest = json.loads(data)
            for entry in manifest:
                entry['RepoTags'] = [tag]
            data = json.dumps(manifest).encode()
            member.size = len(data)
        out.addfile(member, io.BytesIO(data) if data is not None else None)
`;
import { waitFor } from '../helpers/wait-for.js';

test.before(async () => {
  base = await testBaseDir(`atomic-test-system-${tag}`);
  registry = await startRegistry();
  const images: [string, Promise<import('../../images/build/image.js').BuiltImage>][] = [
    ['atomic-test-system:latest', atomicTestSystem(1)],
    ['atomic-test-system:v2', atomicTestSystem(2)],
    ['atomic-test-system-broken:latest', atomicTestSystem(3, { exitCode: 3 })],
    ['atomic-test-system-update:latest', atomicTestSystemUpdate()],
    ['atomic-test-runonce:latest', atomicTestRunonce()],
    ['atomic-test-system-hostfs:latest', atomicTestSystemHostfs()],
    ['etcd-system:latest', etcdLikeImage()],
    // Its repository's name is the default container name: unique, as runc's state is shared.
    [`busybox${tag}:latest`, busyboxSh()],
  ];
  for (const [ref, built] of images) {
    const [repository, imageTag] = ref.split(':') as [string, string];
    await pushImage(registry.host, repository, imageTag, await built);
  }
  const conf = path.join(base, 'registries.conf');
  await writeFile(conf, `unqualified-search-registries = ["${registry.host}"]\n`);
  for (const dir of ['units', 'tmpfiles', 'host', 'state', 'conf']) await mkdir(path.join(base, dir), { recursive: true });
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
  env = {
    SYSCONTAINER_ROOT: path.join(base, 'root'),
    SYSCONTAINER_UNIT_DIR: path.join(base, 'units'),
    SYSCONTAINER_TMPFILES_DIR: path.join(base, 'tmpfiles'),
    SYSCONTAINER_HOST_ROOT: path.join(base, 'host'),
    SYSCONTAINER_REGISTRIES_CONF: conf,
    SYSCONTAINER_CONFIG: path.join(base, 'syscontainer.conf'),
    SYSCONTAINER_RUNTIME: runtimePath,
    SYSCONTAINER_SETTLE_MS: '1200',
    SYSCONTAINER_SYSTEMD_NSENTER_PID: String(harness.pid),
  };
});

test.after.always(async () => {
  await harness?.stop();
  await registry?.stop();
  for (const hierarchy of existsSync('/sys/fs/cgroup') ? await readdir('/sys/fs/cgroup') : []) {
    const slice = path.join('/sys/fs/cgroup', hierarchy, 'system.slice');
    for (const entry of await readdir(slice).catch(() => [] as string[])) {
      if (!entry.includes(tag)) continue;
      await execa('rmdir', [path.join(slice, entry, 'container'), path.join(slice, entry)], { reject: false });
    }
  }
  if (base !== '') await rm(base, { recursive: true, force: true });
});

test.serial('install --system --set RECEIVER atomic-test-system: what the image declares is granted and printed; it runs under systemd', async (t) => {
  const result = await sc('install', `--name=${name}`, `--set=RECEIVER=${secret}`, '--system', 'atomic-test-system');
  t.is(result.exitCode, 0, result.stderr);
  // Everything beyond the default confinement, one line each.
  t.regex(result.stderr, /privilege granted: the host's UTS namespace(\n|$)/m);
  t.regex(result.stderr, new RegExp(`privilege granted: mounts host path /run/${name} read-write at /var/run/$`, 'm'));
  // Restart=on-crash is a warning systemd ignores, shown as one.
  t.regex(result.stderr, /warning: .*Failed to parse service restart specifier, ignoring: on-crash/);
  // The files atomic's test checks.
  for (const file of [`units/${name}.service`, `tmpfiles/${name}.conf`, `root/${name}.0/${name}.service`, `root/${name}.0/tmpfiles-${name}.conf`, `root/${name}.0/config.json`, `root/${name}.0/info`]) {
    t.true(existsSync(path.join(base, file)), file);
  }
  const config = await readFile(path.join(root(), `${name}.0`, 'config.json'), 'utf8');
  t.true(config.includes(secret) && config.includes('8081'), '--set and the manifest default are in config.json');
  t.is(await activeState(name), 'active');
  await waitFor('the greeting', async () => (await greeting(name)).includes(secret));
  t.regex(await greeting(name), new RegExp(`^Hi ${secret} from container ${name} with UUID=[0-9a-f-]{36} on port 8081 \\(v1\\)$`));
  t.regex((await sc('status', name)).stdout, /^Privileges: the host's UTS namespace$/m);
  const info = JSON.parse(await readFile(path.join(root(), name, 'info'), 'utf8')) as { privileges: string[] };
  t.deepEqual(info.privileges, ["the host's UTS namespace", `mounts host path /run/${name} read-write at /var/run/`]);
});

test.serial('containers list as atomic scripts read it; run NAME CMD; run NAME starts it; stop', async (t) => {
  const row = await tableRow(name);
  t.truthy(row, (await sc('containers', 'list', '--no-trunc')).stdout);
  t.true(row!.some((cell) => cell.startsWith('/usr/bin/r')), 'command');
  t.true(row!.includes('running'));
  t.true(row!.includes('ostree'), 'backend');
  t.true(row!.some((cell) => cell.endsWith('runc')), 'runtime');
  t.is((await sc('containers', 'list', '--quiet')).stdout.split('\n').filter((l) => l === name).length, 1, '--quiet: names only');
  t.false((await sc('containers', 'list', '-q')).stdout.includes('IMAGE'));
  t.truthy(await tableRow(name, '--filter', 'image=atomic-test-system'));
  t.truthy(await tableRow(name, '--filter', 'backend=ostree'));
  t.is(await tableRow(name, '-a', '--filter', 'container=non-existing-system'), undefined);
  t.regex((await sc('containers', 'list', '--json')).stdout, new RegExp(`"${name}"`));

  t.is((await sc('run', name, 'echo', 'hello', 'world')).stdout, 'hello world');
  t.is((await sc('stop', name)).exitCode, 0);
  t.true((await tableRow(name, '--all'))!.includes('inactive'));
  t.is((await sc('run', name)).exitCode, 0, 'run NAME without a command starts it');
  t.true((await tableRow(name, '--all'))!.includes('running'));
});

test.serial('install of an existing name: "already present" and exit 0 when nothing differs, else an error that says to update', async (t) => {
  const again = await sc('install', `--name=${name}`, `--set=RECEIVER=${secret}`, '--system', 'atomic-test-system');
  t.is(again.exitCode, 0, again.stderr);
  t.is(again.stdout, `${name} already present`);
  const other = await sc('install', `--name=${name}`, '--set=RECEIVER=someone-else', '--system', 'atomic-test-system');
  t.is(other.exitCode, 1);
  t.regex(other.stderr, new RegExp(`^error: container ${name} is already installed .*update`, 'm'));
  t.true((await listed(name))!.includes('running'), 'the installed one is untouched');
});

test.serial('update: "Latest version already installed"; --set PORT makes NAME.1 keeping values and UUID; rollback', async (t) => {
  const nothing = await sc('update', name);
  t.is(nothing.exitCode, 0);
  t.is(nothing.stdout, 'Latest version already installed');
  const uuid = (JSON.parse(await readFile(path.join(root(), `${name}.0`, 'info'), 'utf8')) as { values: { UUID: string } }).values.UUID;

  const updated = await sc('update', '--set=PORT=8082', name);
  t.is(updated.exitCode, 0, updated.stderr);
  for (const file of [`${name}.1/${name}.service`, `${name}.1/tmpfiles-${name}.conf`, `${name}.1/rootfs`]) t.true(existsSync(path.join(root(), file)), file);
  t.is(await readlink(path.join(root(), name)), `${name}.1`);
  const config = await readFile(path.join(root(), `${name}.1`, 'config.json'), 'utf8');
  t.true(config.includes(secret) && config.includes('8082'));
  t.is((JSON.parse(await readFile(path.join(root(), `${name}.1`, 'info'), 'utf8')) as { values: { UUID: string } }).values.UUID, uuid);
  await waitFor('the new greeting', async () => (await greeting(name)).includes('8082'));

  t.is((await sc('rollback', name)).exitCode, 0);
  t.is(await readlink(path.join(root(), name)), `${name}.0`);
  t.is(await activeState(name), 'active');
  await waitFor('the old greeting', async () => (await greeting(name)).includes('8081'));
});

test.serial('update --rebase between PIDFile and foreground images and back; rollback after an automatic rollback', async (t) => {
  const missing = await sc('update', name, '--rebase', 'atomic-test-system-update');
  t.is(missing.exitCode, 1);
  t.regex(missing.stderr, /unreplaced value for: 'VAR_WITH_NO_DEFAULT'/);
  t.is(await readlink(path.join(root(), name)), `${name}.0`, 'nothing switched');

  const rebased = await sc('update', name, '--rebase', 'atomic-test-system-update', '--set', `VAR_WITH_NO_DEFAULT=${secret}-manual`);
  t.is(rebased.exitCode, 0, rebased.stderr);
  t.true((await readFile(path.join(root(), name, 'config.json'), 'utf8')).includes(`${secret}-manual`));
  await waitFor('the rebased greeting', async () => (await greeting(name)).trim() === `Hi from ${secret}-manual`);
  t.is(await activeState(name), 'active');

  t.is((await sc('rollback', name)).exitCode, 0);
  await waitFor('the PIDFile image again', async () => (await greeting(name)).includes(secret));
  t.true((await readFile(path.join(root(), name, 'config.json'), 'utf8')).includes(secret));

  // PIDFile image to PIDFile image (runc detached in both).
  const v2 = await sc('update', name, '--rebase', 'atomic-test-system:v2');
  t.is(v2.exitCode, 0, v2.stderr);
  await waitFor('v2', async () => (await greeting(name)).includes('(v2)'));
  const slot = await readlink(path.join(root(), name));

  const broken = await sc('update', name, '--rebase', 'atomic-test-system-broken');
  t.is(broken.exitCode, 1);
  t.regex(broken.stderr, /rolled back to .*atomic-test-system:v2/);
  t.is(await readlink(path.join(root(), name)), slot);
  t.is(await activeState(name), 'active');
  // The deployment before v2 is still there to roll back to.
  const back = await sc('rollback', name);
  t.is(back.exitCode, 0, back.stderr);
  await waitFor('v1 again', async () => (await greeting(name)).includes('(v1)'));
});

test.serial('--rootfs=ROOT/OTHER.0 and the ROOT/OTHER symlink: PATH/rootfs is used, the other deployment is unharmed', async (t) => {
  const other = await readlink(path.join(root(), name));
  const before = await listTree(path.join(root(), other));
  for (const [remote, given] of [[`${name}-remote`, path.join(root(), other)], [`${name}-link`, path.join(root(), name)]] as const) {
    const result = await sc('install', `--name=${remote}`, `--rootfs=${given}`, `--set=RECEIVER=${secret}-remote`, '--system', 'atomic-test-system');
    t.is(result.exitCode, 0, result.stderr);
    t.true((await readlink(path.join(root(), remote, 'rootfs'))).length > 0, 'its rootfs is a symlink');
    await waitFor('the remote greeting', async () => (await greeting(remote)).includes(`${secret}-remote`));
    t.is((await sc('uninstall', remote)).exitCode, 0);
    t.false(existsSync(path.join(root(), remote)));
  }
  t.deepEqual(await listTree(path.join(root(), other)), before, "nothing written into the other container's deployment");
  t.is((await inHarness(runtimePath, 'exec', name, 'cat', '/var/run/greeting')).length > 0, true, 'runc exec into it still works');

  // A rootfs that lacks mount points: refused before anything starts, naming them, nothing written.
  const bare = path.join(base, 'bare-rootfs');
  await mkdir(path.join(bare, 'usr', 'bin'), { recursive: true });
  const refused = await sc('install', `--name=${name}-bare`, `--rootfs=${bare}`, '--system', 'atomic-test-system');
  t.is(refused.exitCode, 1);
  t.regex(refused.stderr, /lacks the mount points? .*\/proc/);
  t.deepEqual(await listTree(bare), ['usr/', 'usr/bin/']);
  t.false(existsSync(path.join(root(), `${name}-bare`)));
});

test.serial('uninstall removes unit, tmpfiles, deployments and the cgroup directories under systemd', async (t) => {
  t.is((await sc('uninstall', name)).exitCode, 0);
  t.false(existsSync(path.join(base, 'units', `${name}.service`)));
  t.false(existsSync(path.join(base, 'tmpfiles', `${name}.conf`)));
  for (const entry of [name, `${name}.0`, `${name}.1`]) t.false(existsSync(path.join(root(), entry)), entry);
  for (const hierarchy of await readdir('/sys/fs/cgroup')) {
    t.false(existsSync(path.join('/sys/fs/cgroup', hierarchy, 'system.slice', `${name}.service`)), `cgroup ${hierarchy}`);
  }
});

test.serial('a name ending in .0 installs, is listed and uninstalls; a variable without a default is named', async (t) => {
  const dotted = `container${tag}.0`;
  const result = await sc('install', '--system', `--name=${dotted}`, 'atomic-test-system:latest');
  t.is(result.exitCode, 0, result.stderr);
  t.truthy(await listed(dotted));
  t.is((await sc('uninstall', dotted)).exitCode, 0);
  for (const entry of [dotted, `${dotted}.0`]) t.false(existsSync(path.join(root(), entry)), entry);
  t.false(existsSync(path.join(base, 'units', `${dotted}.service`)));

  const unset = await sc('install', `--name=${name}u`, '--system', 'atomic-test-system-update');
  t.is(unset.exitCode, 1);
  t.regex(unset.stderr, /unreplaced value for: 'VAR_WITH_NO_DEFAULT'/);
  t.false(existsSync(path.join(root(), `${name}u.0`)));
});

test.serial('the run-once image runs at install and with run; nothing is installed', async (t) => {
  const saturn = `Saturn${tag}`;
  const once = await sc('install', '--system', `--name=${saturn}`, '--set', 'RECEIVER=Pluto', 'atomic-test-runonce:latest');
  t.is(once.exitCode, 0, once.stderr);
  t.regex(once.stdout, new RegExp(`HI Pluto from ${saturn} \\(on acme\\)`));
  const run = await sc('run', '--set', 'RECEIVER=Pluto', 'atomic-test-runonce:latest', 'echo', 'Hello', 'World');
  t.is(run.stdout, 'Hello World');
  t.false(existsSync(path.join(base, 'units', `${saturn}.service`)));
  t.false(existsSync(path.join(root(), saturn)));
});

test.serial('install --runtime=/bin/ls fails and leaves nothing; a runtime that does not exist is named', async (t) => {
  const ls = await sc('install', `--name=${name}-ls`, '--runtime=/bin/ls', `--set=RECEIVER=${secret}`, '--system', 'atomic-test-system');
  t.is(ls.exitCode, 1);
  t.false(existsSync(path.join(base, 'units', `${name}-ls.service`)));
  t.deepEqual((await readdir(root())).filter((e) => e.includes(`${name}-ls`)), []);
  t.is(await listed(`${name}-ls`), undefined);
  t.is((await inHarness('systemctl', 'show', '-P', 'LoadState', `${name}-ls.service`)).trim(), 'not-found');

  const missing = await sc('install', `--name=${name}-ls`, '--runtime=/does/not/exist', '--system', 'atomic-test-system');
  t.is(missing.exitCode, 1);
  t.regex(missing.stderr, /\/does\/not\/exist is not installed/);
});

test.serial('a container that exits non-zero at once, or restarts in a loop, fails the install and leaves nothing', async (t) => {
  // A PIDFile image whose server exits 3, and busybox sh (exit 0 at once) restarted by --restart always.
  for (const [container, args] of [
    [`${name}-exit3`, ['atomic-test-system-broken']],
    [`${name}-loop`, ['--restart', 'always', `busybox${tag}`]],
  ] as const) {
    const result = await sc('install', '--system', `--name=${container}`, ...args);
    t.is(result.exitCode, 1, `${container}: ${result.stdout}`);
    t.regex(result.stderr, new RegExp(`container ${container} did not stay running`));
    t.false(existsSync(path.join(base, 'units', `${container}.service`)), container);
    t.deepEqual((await readdir(root())).filter((e) => e.startsWith(container)), [], container);
    t.is(await listed(container), undefined, container);
    t.is((await inHarness('systemctl', 'show', '-P', 'LoadState', `${container}.service`)).trim(), 'not-found', container);
  }
});

test.serial('host files with an empty directory are created, and removed at uninstall', async (t) => {
  const hostfs = `${name}h`;
  const host = (p: string) => path.join(base, 'host', p);
  t.is((await sc('install', '--system', `--name=${hostfs}`, 'atomic-test-system-hostfs')).exitCode, 0);
  t.deepEqual(await readdir(host('/usr/local/placeholder-lib')), []);
  t.is(await readFile(host(`/usr/local/lib/renamed-${hostfs}`), 'utf8'), 'the secret message\n');
  t.is(await readFile(host('/usr/local/lib/secret-message-template'), 'utf8'), 'the secret message for World\n');
  t.is((await sc('uninstall', hostfs)).exitCode, 0);
  t.false(existsSync(host('/usr/local/placeholder-lib')));
  t.false(existsSync(host(`/usr/local/lib/renamed-${hostfs}`)));
});

test.serial("the etcd image's declarations: installed as typed, privileges printed and kept; --confined refuses them", async (t) => {
  const etcd = `etcd${tag}`;
  const set = ['--set', `STATE_DIRECTORY=${path.join(base, 'state')}`, '--set', `CONF_DIRECTORY=${path.join(base, 'conf')}`];
  const expected = etcdLikePrivileges(path.join(base, 'state'), '/run', etcd);

  const confined = await sc('install', '--system', '--confined', `--name=${etcd}`, ...set, 'etcd-system');
  t.is(confined.exitCode, 1);
  t.regex(confined.stderr, /asks for privileges beyond the default: capability CAP_AUDIT_WRITE; capability CAP_DAC_READ_SEARCH; the host's UTS namespace/);
  t.false(existsSync(path.join(root(), etcd)));
  // The site's hard line: the same refusal from syscontainer.conf, without --confined.
  await writeFile(env.SYSCONTAINER_CONFIG!, '[install]\nconfined = true\n');
  const bySite = await sc('install', '--system', `--name=${etcd}`, ...set, 'etcd-system');
  await rm(env.SYSCONTAINER_CONFIG!);
  t.is(bySite.exitCode, 1);
  t.regex(bySite.stderr, /asks for privileges beyond the default: capability CAP_AUDIT_WRITE/);
  t.false(existsSync(path.join(root(), etcd)));

  const installed = await sc('install', '--system', `--name=${etcd}`, ...set, 'etcd-system');
  t.is(installed.exitCode, 0, installed.stderr);
  const printed = installed.stderr.split('\n');
  for (const line of expected) t.true(printed.includes(`privilege granted: ${line}`), line);
  t.true((await inHarness('sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done')).includes(etcdLikeMarker));
  await waitFor('etcd data written', async () => existsSync(path.join(base, 'state', 'etcd', `${etcd}.etcd`, 'member')));
  const status = await sc('status', '--json', etcd);
  t.deepEqual((JSON.parse(status.stdout) as { privileges: string[] }).privileges, expected);
  t.is((await sc('uninstall', etcd)).exitCode, 0);
});

test.serial('dockertar: and docker-archive: round trip: pull, install, run, push as a source', async (t) => {
  const layout = path.join(base, 'layout');
  await writeOciLayout(layout, [{ image: await atomicTestSystem(1), tag: 'latest' }]);
  const tar = path.join(base, 'atomic-test-system.tar');
  // What `docker save atomic-test-system` writes: made by skopeo, with the RepoTags docker
  // writes (skopeo writes docker.io/library/…).
  execFileSync('skopeo', ['copy', '-q', `oci:${layout}:latest`, `docker-archive:${tar}:atomic-test-system:latest`]);
  execFileSync('python3', ['-c', dockerSaveTags, tar, 'atomic-test-system:latest']);

  const pulled = await sc('pull', `dockertar:/${tar}`);
  t.is(pulled.exitCode, 0, pulled.stderr);
  t.regex((await sc('images', 'list')).stdout, /^atomic-test-system\s+latest\s/m, 'named after the RepoTags');
  const refs = execFileSync('ostree', ['refs', `--repo=${path.join(root(), '.storage', 'ostree')}`], { encoding: 'utf8' });
  t.regex(refs, /^ociimage\/atomic-test-system_3Alatest$/m, "the ref atomic's pull wrote");

  const tarName = `${name}t`;
  const installed = await sc('install', `--name=${tarName}`, `--set=RECEIVER=${secret}`, '--system', `dockertar:/${tar}`);
  t.is(installed.exitCode, 0, installed.stderr);
  t.true(existsSync(path.join(root(), `${tarName}.0`, `tmpfiles-${tarName}.conf`)));
  await waitFor('the greeting', async () => (await greeting(tarName)).includes(secret));
  t.is((await sc('uninstall', tarName)).exitCode, 0);
  const ran = await sc('run', `docker-archive:${tar}`, 'echo', 'hello from the tar');
  t.is(ran.exitCode, 0, ran.stderr);
  t.is(ran.stdout, 'hello from the tar');
  const pushed = await sc('push', `docker-archive:${tar}:atomic-test-system:latest`, `${registry!.host}/pushed-from-tar:1`);
  t.is(pushed.exitCode, 0, pushed.stderr);
  t.is((await sc('pull', `${registry!.host}/pushed-from-tar:1`)).exitCode, 0);
});

test.serial("no --name: the image's name, as atomic; a command that exits 0 at once is installed and said to have exited", async (t) => {
  const image = `busybox${tag}`;
  const result = await sc('install', '--system', image);
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stderr, new RegExp(`${image} exited \\(status 0\\) right after it started; it stays installed`));
  t.truthy(await listed(image), 'installed under the image name');
  t.true(existsSync(path.join(base, 'units', `${image}.service`)));
  t.is((await sc('uninstall', image)).exitCode, 0);
  t.false(existsSync(path.join(root(), image)));
});

test.serial('images list as atomic scripts read it (-q, -f, --all, > in use), images tag; mount and umount read-only', async (t) => {
  const container = `${name}m`;
  t.is((await sc('install', '--system', `--name=${container}`, `--set=RECEIVER=${secret}`, 'atomic-test-system')).exitCode, 0);
  t.teardown(async () => void (await sc('uninstall', container)));
  const id = (JSON.parse((await sc('images', 'info', '--json', 'atomic-test-system')).stdout) as { id: string }).id;

  const table = (await sc('images', 'list')).stdout;
  t.regex(table, new RegExp(`^> \\S*/atomic-test-system\\s+latest\\s+${id.slice(7, 19)}\\s`, 'm'), 'in use: marked');
  t.regex(table, /^\S*\/atomic-test-system-update\s+latest\s/m, 'not in use: no marker');
  const quiet = (await sc('images', 'list', '-q')).stdout.split('\n');
  t.true(quiet.includes(id.slice(7, 19)) && quiet.every((line) => /^[0-9a-f]{12}$/.test(line)), quiet.join(' '));
  t.true((await sc('images', 'list', '-q', '--no-trunc')).stdout.split('\n').includes(id));
  const filtered = (await sc('images', 'list', '-f', 'repo=atomic-test-system', '-f', 'tag=v2')).stdout.split('\n').slice(1);
  t.is(filtered.length, 1, filtered.join('\n'));
  t.regex(filtered[0]!, /atomic-test-system\s+v2\s/);
  const badKey = await sc('images', 'list', '-f', 'colour=blue');
  t.is(badKey.exitCode, 2);
  t.regex(badKey.stderr, /--filter "colour=blue": expected KEY=VALUE with KEY one of repo, tag/);
  t.regex((await sc('images', 'list', '--all')).stdout, /^<none>\s+<none>\s+[0-9a-f]{12}\s/m, 'layers as <none>');

  // (An image no container runs: images delete refuses any name of an image in use.)
  const updateId = (JSON.parse((await sc('images', 'info', '--json', 'atomic-test-system-update')).stdout) as { id: string }).id;
  const tagged = await sc('images', 'tag', 'atomic-test-system-update', `localhost/retagged${tag}:1`);
  t.is(tagged.exitCode, 0, tagged.stderr);
  const retagged = JSON.parse((await sc('images', 'list', '--json', '-f', `repo=retagged${tag}`)).stdout) as { name: string; id: string }[];
  t.deepEqual(retagged.map((i) => [i.name, i.id]), [[`localhost/retagged${tag}:1`, updateId]], 'the same image under a second name');
  const untagged = await sc('images', 'delete', `localhost/retagged${tag}:1`);
  t.is(untagged.exitCode, 0, untagged.stderr);
  t.is((await sc('images', 'info', 'atomic-test-system-update')).exitCode, 0, 'the first name stays');

  const dir = path.join(base, 'mnt');
  await mkdir(dir, { recursive: true });
  t.teardown(() => execa('umount', [dir], { reject: false }).then(() => undefined));
  for (const target of ['atomic-test-system:v2', container]) {
    const mounted = await sc('mount', target, dir);
    t.is(mounted.exitCode, 0, mounted.stderr);
    t.regex(mounted.stdout, new RegExp(`^mounted (image|container) \\S*${target.split(':')[0]}\\S* read-only at ${dir}$`));
    t.regex(await readFile(path.join(dir, 'usr/bin/greet.sh'), 'utf8'), /printf/);
    await t.throwsAsync(writeFile(path.join(dir, 'usr/bin/greet.sh'), 'x'), { code: 'EROFS' }, 'read-only');
    t.is((await sc('mount', target, dir)).exitCode, 1, 'a mount point in use is refused');
    t.is((await sc('umount', dir)).exitCode, 0);
    t.deepEqual(await readdir(dir), [], 'nothing left at the mount point');
  }
  const nothing = await sc('umount', dir);
  t.is(nothing.exitCode, 1);
  t.regex(nothing.stderr, /nothing is mounted at/);
});
