// The runc path (no systemd, as in containers and CI): real runc runs the container in the
// background. Needs root, runc and /bin/busybox.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec, followLogs, install, list, logs, readRunRecord, rollback, start, status, stop, uninstall, update, type ContainerExit } from '../../runtime/index.js';
import type { RuntimeContext } from '../../runtime/context.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { busyboxStore, testImage, type TestImage } from '../helpers/busybox-image.js';
import { listTree, testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';
import { stopMonitors } from '../helpers/monitors.js';

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
    // The monitors first: one whose container was deleted under it would run it again.
    await stopMonitors({ under: base });
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
  t.is(entries[0]?.imageId, image.configDigest, 'the full image id (the CLI shortens it)');

  await stop(ctx, { name });
  t.false(alive(st.pid), 'stop leaves no process');
  const stopped = await status(ctx, { name });
  t.is(stopped.state, 'exited', 'its TERM trap exits 0');
  t.is(stopped.lastExit?.exitCode, 0);
  await start(ctx, { name });
  const again = await status(ctx, { name });
  t.is(again.state, 'running');
  t.is(again.lastExit, undefined, 'a new run: the last exit is forgotten');
});

/** The run record of `name`'s active deployment once its exit is written (or what is there after 10 s). */
async function recordedExit(ctx: RuntimeContext, name: string): Promise<ContainerExit | undefined> {
  const dir = path.join(ctx.root, name);
  for (let i = 0; i < 100; i++) {
    const exit = (await readRunRecord(dir)).exit;
    if (exit !== undefined) return exit;
    await sleep(100);
  }
  return undefined;
}

test('without systemd the monitor records every exit as the unit would: by itself, stop, runc kill', async (t) => {
  const image = testImage('127.0.0.1:5000/svc:1', { Cmd: ['/bin/sh', '-c', 'echo up; trap "echo bye; exit 7" TERM; while [ ! -e /tmp/done ]; do sleep 0.2; done; echo leaving; exit 3'] });
  const { ctx, name, stateDir, runc } = await setup(t, [image]);
  await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  const dir = path.join(ctx.root, name);
  t.truthy((await readRunRecord(dir)).startedAt, 'the start is marked');
  t.is((await readRunRecord(dir)).exit, undefined);

  // By itself: exit 3.
  t.is((await exec(ctx, { name, command: ['touch', '/tmp/done'] })).exitCode, 0);
  const own = await recordedExit(ctx, name);
  t.like(own, { result: 'exit-code', exitCode: 3 });
  t.is(await readFile(path.join(dir, 'exit-status'), 'utf8'), 'exit-code exited 3\n', "in the unit's words");
  t.is(await runc.state(name), undefined, 'runc forgot it');
  const st = await status(ctx, { name });
  t.is(st.state, 'failed');
  t.is(st.lastExit?.exitCode, 3);
  t.regex(await logs(ctx, { name }), /up\n[\s\S]*leaving/, 'the output is in the log');

  // stop: the TERM trap's 7, recorded before stop returns.
  await start(ctx, { name });
  await sleep(300); // the trap is set
  await stop(ctx, { name });
  t.like((await readRunRecord(dir)).exit, { exitCode: 7 });

  // runc kill (outside syscontainer): 128 + 9.
  await start(ctx, { name });
  const pid = (await status(ctx, { name })).pid;
  await runc.kill(name, 'KILL');
  t.like(await recordedExit(ctx, name), { result: 'exit-code', exitCode: 137 });
  t.false(alive(pid));
  t.is((await status(ctx, { name })).state, 'failed');
});

test('the monitor killed with -9: the container runs on, status and stop record the lost exit, start runs it again', async (t) => {
  const image = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('monitored') });
  const { ctx, name, stateDir, runc } = await setup(t, [image]);
  await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  const dir = path.join(ctx.root, name);
  const monitor = Number(await readFile(path.join(dir, 'monitor.pid'), 'utf8'));
  t.true(alive(monitor));
  t.regex(readFileSync(`/proc/${monitor}/cmdline`, 'utf8'), /syscontainer-monitor/);
  process.kill(monitor, 'SIGTERM');
  await sleep(200);
  t.true(alive(monitor), 'TERM to the monitor is ignored');
  process.kill(monitor, 'SIGKILL');
  await sleep(2500); // past the start's grace
  t.is((await status(ctx, { name })).state, 'running', 'the container runs on');

  // It ends while nobody watches: status finds no monitor and no record, and records the loss.
  const pid = (await status(ctx, { name })).pid;
  await runc.kill(name, 'KILL');
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  const st = await status(ctx, { name });
  t.is(st.state, 'failed');
  t.like(st.lastExit, { result: 'unknown', exitCode: 255 });
  await start(ctx, { name });
  t.is((await status(ctx, { name })).state, 'running');
  t.is((await readRunRecord(dir)).exit, undefined);

  // Stopped while unwatched: stop writes the record.
  process.kill(Number(await readFile(path.join(dir, 'monitor.pid'), 'utf8')), 'SIGKILL');
  await sleep(2100);
  await stop(ctx, { name });
  t.like((await readRunRecord(dir)).exit, { result: 'unknown', exitCode: 255 });
  t.is(await runc.state(name), undefined);
});

test('a command that exits 0 at once installs without systemd too, and status says it exited 0', async (t) => {
  const image = testImage('127.0.0.1:5000/once:1', { Cmd: ['/bin/sh', '-c', 'echo did-it'] });
  const { ctx, name, stateDir } = await setup(t, [image]);
  const result = await install(ctx, { name, image: image.name, set: { STATE_DIRECTORY: stateDir } });
  t.false(result.started);
  const st = await status(ctx, { name });
  t.is(st.state, 'exited');
  t.like(st.lastExit, { result: 'success', exitCode: 0 });
  t.regex(await logs(ctx, { name }), /did-it/);
  t.is((await list(ctx)).find((c) => c.name === name)?.state, 'exited', 'containers list says what status says');
  await start(ctx, { name });
  t.is((await status(ctx, { name })).state, 'exited', 'start runs it again');
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

test('a unit rendered from our template is verified once per shape; an image\'s own unit at every install', async (t) => {
  const ours = testImage('127.0.0.1:5000/ours:1', { Cmd: serviceScript('o') });
  const own = testImage('127.0.0.1:5000/own:1', { Cmd: serviceScript('x') }, { 'exports/service.template': '[Service]\nExecStart=$EXEC_START\n' });
  const { ctx, name, stateDir } = await setup(t, [ours, own]);
  const verified: string[] = [];
  ctx.systemd = new (class extends Systemd {
    override async verify(file: string, options?: { unitPath?: readonly string[] }) {
      verified.push(path.basename(file));
      return super.verify(file, options);
    }
  })();
  for (const suffix of ['a', 'b']) await install(ctx, { name: `${name}${suffix}`, image: ours.name, set: { STATE_DIRECTORY: stateDir }, start: false });
  t.deepEqual(verified, [`${name}a.service`], 'the second unit has the first one\'s shape');
  // Another image is another shape.
  for (const suffix of ['c', 'd']) await install(ctx, { name: `${name}${suffix}`, image: own.name, set: { STATE_DIRECTORY: stateDir }, start: false });
  t.deepEqual(verified, [`${name}a.service`, `${name}c.service`, `${name}d.service`], 'the image\'s own template is verified each time');
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
