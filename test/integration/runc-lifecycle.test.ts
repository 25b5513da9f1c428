// The runc path (no systemd, as in containers and CI): real runc runs the container in the
// background. Needs root, runc and /bin/busybox.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { exec, followLogs, install, list, logs, rollback, start, status, stop, uninstall, update } from '../../runtime/index.js';
import type { RuntimeContext } from '../../runtime/context.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { busyboxStore, testImage, type TestImage } from '../helpers/busybox-image.js';
import { listTree, testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';

const test = testNeeding(needs.runc, needs.busybox);

const runtimePath = toolPath('runc') ?? 'runc';

interface Setup {
  ctx: RuntimeContext<TestImage>;
  base: string;
  store: ReturnType<typeof busyboxStore>;
  runc: Runc;
  stateDir: string;
}

let seq = 0;
async function setup(t: ExecutionContext, images: TestImage[]): Promise<Setup & { name: string }> {
  const n = ++seq; // before any await: tests run concurrently, and names must differ
  const base = await testBaseDir(`runc-${process.pid}-${n}`);
  const runc = new Runc({ runtimePath, stateRoot: path.join(base, 'runc-state'), prefix: [] });
  const store = busyboxStore(images);
  const name = `rt${process.pid}x${n}`;
  const ctx: RuntimeContext<TestImage> = {
    root: path.join(base, 'containers'),
    unitDir: path.join(base, 'units'),
    tmpfilesDir: path.join(base, 'tmpfiles'),
    runtimePath,
    store,
    systemd: new Systemd({ prefix: [] }),
    runc,
    settleMs: 800,
  };
  t.teardown(async () => {
    for (const s of await runc.list().catch(() => [])) await runc.delete(s.id, { force: true }).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
    // runc made the unit's cgroup path (no systemd here to own it): leave no empty cgroups behind.
    for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      await rmdir(path.join('/sys/fs/cgroup', hierarchy, 'system.slice', `${name}.service`)).catch(() => undefined);
    }
  });
  const stateDir = path.join(base, 'state');
  await mkdir(stateDir);
  // They exist on every host (/etc/systemd/system, /etc/tmpfiles.d).
  await mkdir(ctx.unitDir);
  await mkdir(ctx.tmpfilesDir);
  return { ctx, base, store, runc, stateDir, name };
}

/** Whether `pid` is a live process (a zombie waiting for its reaper counts as gone). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const serviceScript = (marker: string) => ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`];

test.before(() => {
  const systemdState = execFileSync('sh', ['-c', 'systemctl is-system-running || true'], { encoding: 'utf8' }).trim();
  if (systemdState !== 'offline') throw new Error(`these tests exercise the path without systemd; systemd here is "${systemdState}"`);
});

test('install runs the container with runc; exec works; the rootfs is read-only inside', async (t) => {
  const image = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('hello-from-v1'), Volumes: { '/data': {} } });
  const { ctx, name, stateDir, runc } = await setup(t, [image]);
  const result = await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  t.true(result.started);

  const st = await status(ctx, { name });
  t.is(st.state, 'running');
  t.is(st.managedBy, 'runc');
  t.true(alive(st.pid), 'the container process exists on the host');
  t.is((await runc.state(name))?.bundle, path.join(ctx.root, `${name}.0`));
  t.is(await readlink(path.join(ctx.root, name)), `${name}.0`);

  const whoami = await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] });
  t.is(whoami.exitCode, 0);
  t.true(whoami.stdout.includes('hello-from-v1'), 'runc exec runs inside this container');

  const write = await exec(ctx, { name, command: ['touch', '/bin/new-file'] });
  t.not(write.exitCode, 0);
  t.regex(write.stderr, /Read-only file system/);
  t.false(existsSync(path.join(ctx.root, `${name}.0`, 'rootfs', 'bin', 'new-file')));
  t.is((await exec(ctx, { name, command: ['touch', '/tmp/ok'] })).exitCode, 0, '/tmp is a writable tmpfs');

  t.is((await exec(ctx, { name, command: ['sh', '-c', 'echo kept > /data/file'] })).exitCode, 0, 'the volume is writable');
  t.is(await readFile(path.join(stateDir, name, 'data', 'file'), 'utf8'), 'kept\n', 'and lands in STATE_DIRECTORY/NAME/<volume>');

  t.regex(await logs(ctx, { name }), /hello-from-v1/);
  const entries = await list(ctx);
  t.deepEqual(
    entries.map((e) => [e.name, e.image, e.state, e.runtime]),
    [[name, image.name, 'running', runtimePath]],
  );
  t.is(entries[0]?.imageId, image.configDigest.slice(7, 19));

  await stop(ctx, { name });
  t.false(alive(st.pid), 'stop leaves no process');
  t.is((await status(ctx, { name })).state, 'stopped');
  await start(ctx, { name });
  t.is((await status(ctx, { name })).state, 'running');
});

test('names and existing containers are checked before anything is written', async (t) => {
  const image = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('x') });
  const { ctx, name, stateDir } = await setup(t, [image]);
  await t.throwsAsync(install(ctx, { name: '.bad', image: image.name }), { message: /starts with "\."/ });
  await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir }, start: false });
  const error = await t.throwsAsync(install(ctx, { name, image: image.name }), { message: new RegExp(`container ${name} is already installed .* use update`) });
  t.is((error as { code?: string }).code, 'EEXIST');
  await t.throwsAsync(install(ctx, { name: 'other', image: 'nope:1' }), { message: /image nope:1 is not in the store/ });
  t.false(existsSync(path.join(ctx.root, 'other.0')));
});

test('update to a new image swaps deployments and keeps --set values and UUID; rollback goes back', async (t) => {
  const v1 = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('version-one') });
  const { ctx, name, stateDir, store } = await setup(t, [v1]);
  const installed = await install(ctx, { name, image: v1.name, set: { STATE_DIRECTORY: stateDir, MY_VAR: 'x' } });
  const v1b = testImage(v1.name, { Cmd: serviceScript('version-two') });
  store.set(v1b);

  const updated = await update(ctx, { name });
  t.true(updated.changed);
  t.is(updated.info.revision, 2);
  t.is(updated.info.imageId, v1b.configDigest);
  t.deepEqual(updated.info.set, { STATE_DIRECTORY: stateDir, MY_VAR: 'x' });
  t.is(updated.info.values.UUID, installed.info.values.UUID);
  t.is(await readlink(path.join(ctx.root, name)), `${name}.1`);
  t.true((await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout.includes('version-two'));

  t.false((await update(ctx, { name })).changed, 'nothing new: nothing done');

  await rollback(ctx, { name });
  t.is(await readlink(path.join(ctx.root, name)), `${name}.0`);
  t.true((await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout.includes('version-one'));
  t.is((await status(ctx, { name })).revision, 1);
});

test('an update whose container does not start is rolled back by itself', async (t) => {
  const good = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('good') });
  const { ctx, name, stateDir } = await setup(t, [good]);
  const bad = testImage('127.0.0.1:5000/broken:1', { Cmd: ['/bin/sh', '-c', 'echo failing; exit 3'] });
  (ctx.store as ReturnType<typeof busyboxStore>).set(bad);
  await install(ctx, { name, image: good.name, set: { STATE_DIRECTORY: stateDir } });

  const error = await t.throwsAsync(update(ctx, { name, rebase: bad.name }), { message: /rolled back to 127\.0\.0\.1:5000\/svc:1/ });
  t.regex(error.message, /did not stay running/);
  t.is(await readlink(path.join(ctx.root, name)), `${name}.0`);
  const st = await status(ctx, { name });
  t.is(st.state, 'running');
  t.is(st.image, good.name);
  t.true((await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout.includes('good'));
  t.false(existsSync(path.join(ctx.root, `${name}.1`)), 'the failed deployment is not kept');
});

test('a failed install leaves nothing behind', async (t) => {
  const bad = testImage('127.0.0.1:5000/broken:1', { Cmd: ['/bin/false'], Volumes: { '/data': {} } });
  const { ctx, name, base, stateDir } = await setup(t, [bad]);
  await mkdir(ctx.root, { recursive: true });
  const before = await listTree(base);
  await t.throwsAsync(install(ctx, { name, image: bad.name, set: { STATE_DIRECTORY: stateDir } }), { message: /did not stay running/ });
  t.deepEqual(await listTree(base, ['runc-state']), before.filter((p) => !p.startsWith('runc-state')));
});

test('uninstall removes deployments, unit, tmpfiles and the container; purge removes state', async (t) => {
  const image = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('bye'), Volumes: { '/data': {} } });
  const { ctx, name, base, stateDir, runc } = await setup(t, [image]);
  await mkdir(ctx.root, { recursive: true });
  await writeFile(path.join(base, 'unrelated'), 'stays');
  const before = await listTree(base, ['runc-state']);
  await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  const pid = (await status(ctx, { name })).pid;
  t.true(existsSync(path.join(ctx.tmpfilesDir, `${name}.conf`)));
  t.true(existsSync(path.join(stateDir, name, 'data')), 'tmpfiles made the volume directory');

  await uninstall(ctx, { name });
  t.false(alive(pid));
  t.is(await runc.state(name), undefined);
  t.true(existsSync(path.join(stateDir, name)), 'state is kept without purge');
  await t.throwsAsync(uninstall(ctx, { name }), { message: new RegExp(`container ${name} is not installed`) });

  await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  await uninstall(ctx, { name, purge: true });
  t.deepEqual(await listTree(base, ['runc-state']), before);
  t.false(existsSync(`/sys/fs/cgroup/memory/system.slice/${name}.service`), 'no empty cgroup left by runc');
});

test('followLogs hands over new output until aborted; debris of a crashed install does not block a new one', async (t) => {
  const image = testImage('127.0.0.1:5000/svc:1', { Cmd: ['/bin/sh', '-c', "trap 'exit 0' TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done"] });
  const { ctx, name, stateDir } = await setup(t, [image]);
  // A crash between checkout and info: a slot without info and a link to it.
  await mkdir(path.join(ctx.root, `${name}.0`, 'rootfs'), { recursive: true });
  await writeFile(path.join(ctx.root, `${name}.0`, 'config.json'), '{}');
  await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  const controller = new AbortController();
  let seen = '';
  const following = followLogs(ctx, {
    name,
    write: (chunk) => {
      seen += chunk;
      if (/tick-2/.test(seen)) controller.abort();
    },
    signal: controller.signal,
  });
  const timer = setTimeout(() => controller.abort(), 15_000);
  await following;
  clearTimeout(timer);
  t.regex(seen, /tick-0[\s\S]*tick-2/);
});

test('a unit that systemd-analyze verify rejects is not installed; what it only warns about is not an error', async (t) => {
  const image = testImage('127.0.0.1:5000/badunit:1', { Cmd: serviceScript('x') }, {
    'exports/service.template': '[Service]\nExecStart=$EXEC_START\nExecStartPost=no-such-tool\nRestart=sometimes\n',
  });
  const { ctx, name, base, stateDir } = await setup(t, [image]);
  await mkdir(ctx.root, { recursive: true });
  const before = await listTree(base, ['runc-state']);
  const error = await t.throwsAsync(install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } }), {
    message: new RegExp(`unit ${name}\\.service .* does not pass systemd-analyze verify: .*no-such-tool is not executable`, 'i'),
  });
  t.notRegex(error.message, /restart specifier/, 'the ignored Restart= value is no error');
  t.is((error as { code?: string }).code, 'ETEMPLATE');
  t.deepEqual(await listTree(base, ['runc-state']), before);
});
