// Existing Atomic system container images, unchanged, on the runc path (no systemd): an image
// in the shape of Atomic's etcd image (exports, hostfs, renameFiles, tmpfiles, $ADDTL_MOUNTS),
// noContainerService, hostile hostfs content, and install --rootfs. Host files land under a
// test host root, never in the real /usr/local/bin or /etc. Needs root, runc and /bin/busybox.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { RuntimeContext } from '../../runtime/context.js';
import { exec, install, rollback, status, uninstall, update } from '../../runtime/index.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { etcdExports, etcdMarker, etcdShapedImage } from '../helpers/atomic-etcd-image.js';
import { busyboxStore, makeBusyboxRootfs, testImage, type TestImage } from '../helpers/busybox-image.js';
import { listTree, testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';
import { stopMonitors } from '../helpers/monitors.js';

const test = testNeeding(needs.systemd, needs.busybox);

const runtimePath = toolPath('runc') ?? 'runc';

interface Setup {
  ctx: RuntimeContext<TestImage>;
  base: string;
  name: string;
  hostRoot: string;
  store: ReturnType<typeof busyboxStore>;
  runc: Runc;
  /** STATE_DIRECTORY, RUN_DIRECTORY and CONF_DIRECTORY inside the test directory. */
  set: { STATE_DIRECTORY: string; RUN_DIRECTORY: string; CONF_DIRECTORY: string };
  logLines: string[];
}

let seq = 0;
async function setup(t: ExecutionContext, images: (name: string) => TestImage[], storeOf: (images: TestImage[]) => ReturnType<typeof busyboxStore> = busyboxStore): Promise<Setup> {
  const n = ++seq; // before any await: tests run concurrently
  const base = await testBaseDir(`atomic-${process.pid}-${n}`);
  const name = `at${process.pid}x${n}`;
  const runc = new Runc({ runtimePath, stateRoot: path.join(base, 'runc-state'), prefix: [] });
  const store = storeOf(images(name));
  const hostRoot = path.join(base, 'host');
  const logLines: string[] = [];
  const ctx: RuntimeContext<TestImage> = {
    root: path.join(base, 'containers'),
    unitDir: path.join(base, 'units'),
    tmpfilesDir: path.join(base, 'tmpfiles'),
    hostRoot,
    runtimePath,
    store,
    systemd: new Systemd({ prefix: [] }),
    runc,
    settleMs: 800,
    log: (line) => logLines.push(line),
  };
  t.teardown(async () => {
    // The monitors first: one whose container was deleted under it would run it again.
    await stopMonitors({ under: base });
    for (const s of await runc.list().catch(() => [])) await runc.delete(s.id, { force: true }).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
    for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      await rmdir(path.join('/sys/fs/cgroup', hierarchy, 'system.slice', `${name}.service`, 'container')).catch(() => undefined);
      await rmdir(path.join('/sys/fs/cgroup', hierarchy, 'system.slice', `${name}.service`)).catch(() => undefined);
    }
  });
  for (const dir of [ctx.root, ctx.unitDir, ctx.tmpfilesDir, hostRoot]) await mkdir(dir, { recursive: true });
  const set = { STATE_DIRECTORY: path.join(base, 'state'), RUN_DIRECTORY: path.join(base, 'run'), CONF_DIRECTORY: path.join(base, 'conf') };
  return { ctx, base, name, hostRoot, store, runc, set, logLines };
}

const sha256 = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const hostFile = (s: Setup, p: string) => path.join(s.hostRoot, p);
const etcdctl = (s: Setup) => hostFile(s, `/usr/local/bin/${s.name}ctl`);
const etcdConf = (s: Setup) => hostFile(s, `${s.set.CONF_DIRECTORY}/${s.name}/etcd.conf`);

test.before(() => {
  const systemdState = execFileSync('sh', ['-c', 'systemctl is-system-running || true'], { encoding: 'utf8' }).trim();
  if (systemdState !== 'offline') throw new Error(`these tests exercise the path without systemd; systemd here is "${systemdState}"`);
});

test("Atomic's etcd-shaped image runs under runc; host files are installed renamed and templated, kept when modified, removed on uninstall", async (t) => {
  const s = await setup(t, (name) => [etcdShapedImage('127.0.0.1:5000/etcd:1', name)]);
  const result = await install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd:1', set: s.set, allowPrivileges: true });
  t.true(result.started);
  t.is((await status(s.ctx, { name: s.name })).state, 'running');
  t.true((await exec(s.ctx, { name: s.name, command: ['cat', '/proc/1/cmdline'] })).stdout.includes(etcdMarker));
  const environ = (await exec(s.ctx, { name: s.name, command: ['cat', '/proc/1/environ'] })).stdout.split('\0');
  t.true(environ.includes('ETCD_NAME=default'), 'defaultValues fill the config template');
  t.true(environ.includes(`NAME=${s.name}`));

  // renameFiles: etcdctl -> ${NAME}ctl, /etc/etcd/etcd.conf -> $CONF_DIRECTORY/$NAME/etcd.conf; both templated.
  t.false(existsSync(hostFile(s, '/usr/local/bin/etcdctl')));
  t.false(existsSync(hostFile(s, '/etc/etcd/etcd.conf')));
  const ctl = await readFile(etcdctl(s), 'utf8');
  t.is(ctl, `#!/bin/sh\n# etcdctl wrapper v1\nexec runc exec ${s.name} etcdctl "$@"\n`);
  const conf = await readFile(etcdConf(s), 'utf8');
  t.is(conf, `ETCD_NAME=default\nETCD_DATA_DIR=/var/lib/etcd/default.etcd\n# written for ${s.name}\n# v1\n`);

  // Each file's checksum is in the deployment's record.
  const info = JSON.parse(await readFile(path.join(s.ctx.root, s.name, 'info'), 'utf8'));
  t.deepEqual(
    info.hostFiles.map((f: { path: string; digest: string }) => [f.path, f.digest]),
    [
      [`/usr/local/bin/${s.name}ctl`, sha256(ctl)],
      [`${s.set.CONF_DIRECTORY}/${s.name}/etcd.conf`, sha256(conf)],
    ],
  );
  // tmpfiles.template applied: the bind-mount sources exist.
  t.true(existsSync(path.join(s.set.STATE_DIRECTORY, 'etcd', s.name)));
  t.true(existsSync(path.join(s.ctx.tmpfilesDir, `${s.name}.conf`)));

  await appendFile(etcdConf(s), 'ETCD_DEBUG=true\n');
  await uninstall(s.ctx, { name: s.name });
  t.false(existsSync(etcdctl(s)), 'the unmodified file is removed');
  t.is(await readFile(etcdConf(s), 'utf8'), `${conf}ETCD_DEBUG=true\n`, 'the modified file is kept');
  t.true(s.logLines.some((l) => l.includes(`kept ${etcdConf(s)}: modified since it was installed`)), 'and uninstall says so');
});

test("update replaces only unmodified host files; rollback restores the other deployment's files", async (t) => {
  const s = await setup(t, (name) => [etcdShapedImage('127.0.0.1:5000/etcd:1', name, 'v1')]);
  await install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd:1', set: s.set, allowPrivileges: true });
  await appendFile(etcdConf(s), '# mine\n');
  const mine = await readFile(etcdConf(s), 'utf8');
  s.store.set(etcdShapedImage('127.0.0.1:5000/etcd:1', s.name, 'v2'));

  const updated = await update(s.ctx, { name: s.name });
  t.is(updated.info.revision, 2);
  t.regex(await readFile(etcdctl(s), 'utf8'), /etcdctl wrapper v2/, 'the unmodified file is replaced');
  t.is(await readFile(etcdConf(s), 'utf8'), mine, 'the modified one is not');
  t.true(s.logLines.some((l) => l.includes(`kept ${etcdConf(s)}`)));
  t.is((await status(s.ctx, { name: s.name })).state, 'running');

  await rollback(s.ctx, { name: s.name });
  t.regex(await readFile(etcdctl(s), 'utf8'), /etcdctl wrapper v1/, "rollback restores the first deployment's file");
  t.is(await readFile(etcdConf(s), 'utf8'), mine);

  // The user puts the original back: uninstall removes it again.
  await writeFile(etcdConf(s), mine.replace('# mine\n', ''));
  await uninstall(s.ctx, { name: s.name });
  t.false(existsSync(etcdctl(s)));
  t.false(existsSync(etcdConf(s)));
});

test('$ADDTL_MOUNTS is inserted raw (",{...}" adds a mount); a value that breaks config.json is a clear error that leaves nothing', async (t) => {
  const s = await setup(t, (name) => [etcdShapedImage('127.0.0.1:5000/etcd:1', name)]);
  const extra = path.join(s.base, 'extra');
  await mkdir(extra);
  await writeFile(path.join(extra, 'hello'), 'from the host\n');
  const mount = `,{"type":"bind","source":"${extra}","destination":"/extra","options":["rbind","ro"]}`;
  await install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd:1', set: { ...s.set, ADDTL_MOUNTS: mount }, allowPrivileges: true });
  t.is((await exec(s.ctx, { name: s.name, command: ['cat', '/extra/hello'] })).stdout.trim(), 'from the host');
  await uninstall(s.ctx, { name: s.name, purge: true });

  const before = await listTree(s.base, ['runc-state']);
  const error = await t.throwsAsync(
    install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd:1', set: { ...s.set, ADDTL_MOUNTS: ',{"type": broken' }, allowPrivileges: true }),
  );
  t.regex(error.message, /^image 127\.0\.0\.1:5000\/etcd:1: \/exports\/config\.json\.template(:\d+)?: not valid JSON after rendering/);
  t.is((error as { code?: string }).code, 'ETEMPLATE');
  t.deepEqual(await listTree(s.base, ['runc-state']), before, 'no deployment, unit or host file left');
});

test('a host file that exists is never overwritten: install fails naming it and leaves nothing', async (t) => {
  const s = await setup(t, (name) => [etcdShapedImage('127.0.0.1:5000/etcd:1', name)]);
  await mkdir(path.dirname(etcdctl(s)), { recursive: true });
  await writeFile(etcdctl(s), 'the admin wrote this\n');
  const before = await listTree(s.base, ['runc-state']);
  const error = await t.throwsAsync(install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd:1', set: s.set, allowPrivileges: true }));
  t.is(error.message, `host file ${etcdctl(s)} already exists and was not installed by this container`);
  t.is((error as { code?: string }).code, 'EEXIST');
  t.is(await readFile(etcdctl(s), 'utf8'), 'the admin wrote this\n');
  t.deepEqual(await listTree(s.base, ['runc-state']), before);
});

test('noContainerService: only the host files are installed; no unit, no container, no rootfs kept', async (t) => {
  const files = (name: string) => ({
    'exports/manifest.json': JSON.stringify({
      noContainerService: true,
      defaultValues: { GREETING: 'hello' },
      renameFiles: { '/usr/local/bin/tool': `/usr/local/bin/\${NAME}-tool` },
      installedFilesTemplate: ['/etc/tool.conf'],
    }),
    'exports/hostfs/usr/local/bin/tool': '#!/bin/sh\necho tool\n',
    'exports/hostfs/etc/tool.conf': 'greeting=$GREETING for $NAME\n',
    [`exports/hostfs/usr/share/${name}/data`]: 'data\n',
  });
  const s = await setup(t, (name) => [testImage('127.0.0.1:5000/tools:1', {}, files(name))]);
  const result = await install(s.ctx, { name: s.name, image: '127.0.0.1:5000/tools:1', set: s.set });
  t.false(result.started);
  t.true(result.info.noContainerService);
  t.is(await readFile(hostFile(s, `/usr/local/bin/${s.name}-tool`), 'utf8'), '#!/bin/sh\necho tool\n');
  t.is(await readFile(hostFile(s, '/etc/tool.conf'), 'utf8'), `greeting=hello for ${s.name}\n`);
  t.true(existsSync(hostFile(s, `/usr/share/${s.name}/data`)));
  t.deepEqual(await readdir(s.ctx.unitDir), [], 'no unit');
  t.is(await s.runc.state(s.name), undefined, 'no container');
  t.false(existsSync(path.join(s.ctx.root, `${s.name}.0`, 'rootfs')), 'no rootfs kept');

  await uninstall(s.ctx, { name: s.name });
  t.false(existsSync(hostFile(s, `/usr/local/bin/${s.name}-tool`)));
  t.false(existsSync(hostFile(s, '/etc/tool.conf')));
  t.false(existsSync(path.join(s.ctx.root, `${s.name}.0`)));
});

/** A store whose checkouts also get the given symlinks (path in the rootfs → target). */
function storeWithSymlinks(links: Record<string, string>) {
  return (images: TestImage[]) =>
    busyboxStore(images, async (image, dest) => {
      await makeBusyboxRootfs(dest, image.files);
      for (const [at, target] of Object.entries(links)) {
        await mkdir(path.dirname(path.join(dest, at)), { recursive: true });
        await symlink(target, path.join(dest, at));
      }
    });
}

const hostileCases: { title: string; files: Record<string, string>; links?: Record<string, string>; message: RegExp }[] = [
  {
    title: 'renameFiles to a path with ".."',
    files: { 'exports/manifest.json': JSON.stringify({ noContainerService: true, renameFiles: { '/etc/x': '/../../../../outside-x' } }), 'exports/hostfs/etc/x': 'x' },
    message: /renameFiles\["\/etc\/x"\] renders to "\/\.\.\/\.\.\/\.\.\/\.\.\/outside-x" is not a plain absolute path/,
  },
  {
    title: 'renameFiles through a variable that climbs out',
    files: { 'exports/manifest.json': JSON.stringify({ noContainerService: true, defaultValues: { DIR: '/etc/../..' }, renameFiles: { '/etc': '$DIR' } }), 'exports/hostfs/etc/x': 'x' },
    message: /is not a plain absolute path/,
  },
  {
    title: 'a hostfs symlink pointing outside (relative)',
    files: { 'exports/manifest.json': JSON.stringify({ noContainerService: true }) },
    links: { 'exports/hostfs/etc/evil': '../../../../../../../etc/shadow' },
    message: /hostfs symlink \/etc\/evil -> \.\.\/.*points outside the host root/,
  },
  {
    title: 'a hostfs symlink pointing outside (absolute, with a host root other than /)',
    files: { 'exports/manifest.json': JSON.stringify({ noContainerService: true }) },
    links: { 'exports/hostfs/etc/evil': '/etc/shadow' },
    message: /hostfs symlink \/etc\/evil -> \/etc\/shadow points outside the host root/,
  },
];

for (const c of hostileCases) {
  test(`hostile image refused: ${c.title}; nothing is written`, async (t) => {
    const s = await setup(t, () => [testImage('127.0.0.1:5000/hostile:1', {}, c.files)], storeWithSymlinks(c.links ?? {}));
    const before = await listTree(s.base, ['runc-state']);
    const error = await t.throwsAsync(install(s.ctx, { name: s.name, image: '127.0.0.1:5000/hostile:1', set: s.set }), { message: c.message });
    t.is((error as { code?: string }).code, 'EMANIFEST');
    t.deepEqual(await listTree(s.hostRoot), [], 'nothing under the host root');
    t.false(existsSync(path.join(s.ctx.root, `${s.name}.0`)));
    t.deepEqual(await listTree(s.base, ['runc-state']), before, 'nothing anywhere in the test directory');
  });
}

test('a host directory that is a symlink out of the host root is not written through', async (t) => {
  const s = await setup(t, (name) => [etcdShapedImage('127.0.0.1:5000/etcd:1', name)]);
  const outside = path.join(s.base, 'outside');
  await mkdir(outside);
  await mkdir(hostFile(s, '/usr/local'), { recursive: true });
  await symlink(outside, hostFile(s, '/usr/local/bin'));
  const error = await t.throwsAsync(install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd:1', set: s.set, allowPrivileges: true }));
  t.regex(error.message, /is not a directory inside the host root/);
  t.deepEqual(await readdir(outside), []);
  t.false(existsSync(etcdConf(s)), 'files written before the failure are removed');
});

test('an image with /exports but no tmpfiles.template gets a tmpfiles line for each missing bind-mount source', async (t) => {
  const exports = (name: string) => {
    const files = etcdExports(name);
    delete files['exports/tmpfiles.template'];
    return files;
  };
  const s = await setup(t, (name) => [testImage('127.0.0.1:5000/etcd-notmpfiles:1', {}, exports(name))]);
  await install(s.ctx, { name: s.name, image: '127.0.0.1:5000/etcd-notmpfiles:1', set: s.set, allowPrivileges: true });
  const tmpfiles = await readFile(path.join(s.ctx.tmpfilesDir, `${s.name}.conf`), 'utf8');
  t.is(
    tmpfiles,
    [
      `d ${s.set.STATE_DIRECTORY}/etcd/${s.name} 0755 root root - -`,
      `d ${s.set.RUN_DIRECTORY}/${s.name} 0755 root root - -`,
      `d ${s.set.CONF_DIRECTORY}/${s.name} 0755 root root - -`,
      '',
    ].join('\n'),
    '/etc/resolv.conf exists, so it gets no line',
  );
  t.is((await status(s.ctx, { name: s.name })).state, 'running', 'runc found every source');
});

test('install --rootfs runs an existing exploded rootfs read-only, without a checkout', async (t) => {
  const s = await setup(t, () => []);
  const rootfs = path.join(s.base, 'exploded');
  await makeBusyboxRootfs(rootfs, etcdExports(s.name));
  // A rootfs is a directory with usr/ (Atomic's rule), and it has every mount point: nothing is
  // ever created in a rootfs given by --rootfs.
  for (const dir of ['usr', 'var/lib/etcd', 'var/run/etcd', 'etc/etcd']) await mkdir(path.join(rootfs, dir), { recursive: true });
  for (const file of ['etc/resolv.conf', 'etc/hosts']) await writeFile(path.join(rootfs, file), '', { flag: 'a' });
  const result = await install(s.ctx, { name: s.name, image: 'local/etcd-rootfs', rootfs, set: s.set, allowPrivileges: true });
  t.is(result.info.externalRootfs, rootfs);
  t.is((await status(s.ctx, { name: s.name })).state, 'running');
  const write = await exec(s.ctx, { name: s.name, command: ['touch', '/bin/new-file'] });
  t.regex(write.stderr, /Read-only file system/);
  t.true(existsSync(etcdctl(s)), 'its hostfs is installed too');
  await uninstall(s.ctx, { name: s.name });
  t.true(existsSync(path.join(rootfs, 'bin', 'busybox')), 'uninstall leaves the rootfs alone');
});
