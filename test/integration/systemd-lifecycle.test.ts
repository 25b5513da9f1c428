// The systemd path against a real systemd (test/helpers/systemd-harness.ts): runc as the unit's
// main process, the container in the unit's cgroup. Needs root, runc, systemd and /bin/busybox.
// Serial: one harness, and the cgroup hierarchies are shared with the host.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeContext } from '../../runtime/context.js';
import { followLogs, install, list, logs, status, stop, start, uninstall, update } from '../../runtime/index.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { etcdMarker, etcdShapedImage } from '../helpers/atomic-etcd-image.js';
import { busyboxStore, testImage, type TestImage } from '../helpers/busybox-image.js';
import { listTree, removeHarnessUnitCgroups, SystemdHarness, testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';
import { waitFor } from '../helpers/wait-for.js';

const test = testNeeding(needs.systemd, needs.busybox);

const runtimePath = toolPath('runc') ?? 'runc';
const serviceScript = (marker: string) => ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`];

const good = testImage('127.0.0.1:5000/svc:1', { Cmd: serviceScript('svc-marker-one'), Volumes: { '/data': {} } });
const other = testImage('127.0.0.1:5000/other:1', { Cmd: serviceScript('svc-marker-two') });
const broken = testImage('127.0.0.1:5000/broken:1', { Cmd: ['/bin/sh', '-c', 'echo broken-start; exit 3'] });
const store = busyboxStore([good, other, broken]);

let base = '';
let harness: SystemdHarness;
const name = `sd${process.pid}`;

function context(): RuntimeContext<TestImage> {
  return {
    root: path.join(base, 'containers'),
    unitDir: path.join(base, 'units'),
    tmpfilesDir: path.join(base, 'tmpfiles'),
    runtimePath,
    store,
    systemd: new Systemd({ prefix: harness.prefix }),
    runc: new Runc({ runtimePath, prefix: harness.prefix }),
    settleMs: 2500,
  };
}

/** Command lines of every process in the harness' PID namespace. */
async function processes(): Promise<string[]> {
  const out = await harness.exec(['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done']);
  return out.stdout.split('\n').filter((l) => l.trim() !== '');
}

test.before(async () => {
  base = await testBaseDir(`systemd-${process.pid}`);
  for (const dir of ['units', 'tmpfiles', 'containers', 'state']) await mkdir(path.join(base, dir));
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
});

test.after.always(async () => {
  await harness?.stop();
  if (base !== '') await rm(base, { recursive: true, force: true });
  removeHarnessUnitCgroups(name);
});

test.serial('install enables and starts the unit; status lists the container process; the journal has its output', async (t) => {
  const ctx = context();
  const result = await install(ctx, { name, image: good.name, set: { STATE_DIRECTORY: path.join(base, 'state') } });
  t.true(result.started);
  const st = await status(ctx, { name });
  t.is(st.managedBy, 'systemd');
  t.is(st.state, 'running');
  t.true(st.enabled);
  t.regex(st.details ?? '', /svc-marker-one/, 'systemctl status shows the container process under the unit');
  t.regex(st.details ?? '', /container/, 'in the container cgroup below the unit');
  // A symlink to /etc/systemd/system/NAME.service as seen inside: check the link itself.
  t.is(await readlink(path.join(base, 'units', 'multi-user.target.wants', `${name}.service`)), `/etc/systemd/system/${name}.service`);
  t.regex(await logs(ctx, { name }), /svc-marker-one/);
  t.deepEqual((await list(ctx)).map((e) => [e.name, e.state]), [[name, 'running']]);
});

test.serial('kill -9 of the container process: systemd restarts it', async (t) => {
  const ctx = context();
  const runc = ctx.runc as Runc;
  const before = await runc.state(name);
  t.is(before?.status, 'running');
  const restartsBefore = (await ctx.systemd.unitState(`${name}.service`)).nRestarts;
  await harness.exec(['kill', '-9', String(before?.pid)]);
  await waitFor('the container to run again', async () => {
    const now = await runc.state(name).catch(() => undefined);
    return now?.status === 'running' && now.pid !== before?.pid;
  });
  t.true((await ctx.systemd.unitState(`${name}.service`)).nRestarts > restartsBefore);
  t.is((await status(ctx, { name })).state, 'running');
});

test.serial('stop leaves no process of the container; start brings it back', async (t) => {
  const ctx = context();
  t.true((await processes()).some((p) => p.includes('svc-marker-one')));
  await stop(ctx, { name });
  t.false((await processes()).some((p) => p.includes('svc-marker-one') || p.includes(`run --bundle`)), 'no container or runc process left');
  t.is((await status(ctx, { name })).state, 'inactive');
  t.is(await (ctx.runc as Runc).state(name), undefined, 'runc state cleaned by ExecStopPost');
  await start(ctx, { name });
  t.is((await status(ctx, { name })).state, 'running');
});

test.serial('after a reboot the enabled container starts by itself', async (t) => {
  await harness.reboot();
  const ctx = context();
  await waitFor('the unit to be active after boot', async () => (await status(ctx, { name })).state === 'running');
  t.true((await status(ctx, { name })).enabled);
  t.true((await processes()).some((p) => p.includes('svc-marker-one')));
});

test.serial('an update that fails to start is rolled back by itself', async (t) => {
  const ctx = context();
  const error = await t.throwsAsync(update(ctx, { name, rebase: broken.name }), { message: /rolled back to 127\.0\.0\.1:5000\/svc:1/ });
  t.regex(error.message, /did not stay running/);
  t.is(await readlink(path.join(ctx.root, name)), `${name}.0`);
  const st = await status(ctx, { name });
  t.is(st.state, 'running');
  t.is(st.image, good.name);
  t.true((await processes()).some((p) => p.includes('svc-marker-one')));
});

test.serial('uninstall leaves no file behind and no unit loaded', async (t) => {
  const ctx = context();
  const second = `${name}b`;
  const before = await listTree(base, ['harness']);
  await install(ctx, { name: second, image: other.name, set: { STATE_DIRECTORY: path.join(base, 'state') } });
  t.true((await processes()).some((p) => p.includes('svc-marker-two')));
  // The listing asks systemd once for every unit; each answer is the one unitState gives.
  t.deepEqual((await list(ctx)).map((e) => [e.name, e.state]), [[name, 'running'], [second, 'running']]);
  const units = [`${name}.service`, `${second}.service`, `${name}-none.service`];
  const together = await ctx.systemd.unitStates(units);
  for (const unit of units) t.deepEqual(together.get(unit), await ctx.systemd.unitState(unit), unit);
  t.is(together.get(`${name}-none.service`)?.loadState, 'not-found');
  await uninstall(ctx, { name: second, purge: true });
  t.false((await processes()).some((p) => p.includes('svc-marker-two')));
  t.deepEqual(await listTree(base, ['harness']), before);
  const unit = await ctx.systemd.unitState(`${second}.service`);
  t.is(unit.loadState, 'not-found');
  // The first container is untouched.
  t.is((await status(ctx, { name })).state, 'running');
});

test.serial('followLogs follows the journal inside the harness', async (t) => {
  const ctx = context();
  const controller = new AbortController();
  let seen = '';
  const timer = setTimeout(() => controller.abort(), 15_000);
  await followLogs(ctx, {
    name,
    lines: 50,
    write: (chunk) => {
      seen += chunk;
      if (seen.includes('svc-marker-one')) controller.abort();
    },
    signal: controller.signal,
  });
  clearTimeout(timer);
  t.regex(seen, /svc-marker-one/);
});

test.serial('an Atomic service template with Type=forking and $PIDFILE runs runc detached under the unit', async (t) => {
  const ctx = context();
  const forking = testImage('127.0.0.1:5000/forking:1', { Cmd: serviceScript('svc-marker-forking') }, {
    'exports/service.template':
      '[Unit]\nDescription=$NAME\n\n[Service]\nType=forking\nPIDFile=$PIDFILE\nExecStartPre=$EXEC_STARTPRE\nExecStart=$EXEC_START\nExecStopPost=$EXEC_STOPPOST\nWorkingDirectory=$DESTDIR\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n',
  });
  store.set(forking);
  const fname = `${name}f`;
  await install(ctx, { name: fname, image: forking.name, set: { STATE_DIRECTORY: path.join(base, 'state') } });
  const st = await status(ctx, { name: fname });
  t.is(st.state, 'running');
  t.regex(st.details ?? '', /svc-marker-forking/);
  await stop(ctx, { name: fname });
  t.false((await processes()).some((p) => p.includes('svc-marker-forking')));
  await uninstall(ctx, { name: fname, purge: true });
});

test.serial("Atomic's etcd-shaped image runs under systemd; its host files are installed renamed, kept when modified, removed on uninstall", async (t) => {
  const ename = `${name}e`;
  const hostRoot = path.join(base, 'host');
  const set = { STATE_DIRECTORY: path.join(base, 'state'), RUN_DIRECTORY: path.join(base, 'run'), CONF_DIRECTORY: path.join(base, 'conf') };
  store.set(etcdShapedImage('127.0.0.1:5000/etcd:1', ename));
  const said: string[] = [];
  const ctx: RuntimeContext<TestImage> = { ...context(), hostRoot, log: (line) => said.push(line) };
  await install(ctx, { name: ename, image: '127.0.0.1:5000/etcd:1', set, allowPrivileges: true });
  const st = await status(ctx, { name: ename });
  t.is(st.managedBy, 'systemd');
  t.is(st.state, 'running');
  t.true(st.enabled);
  t.true((await processes()).some((p) => p.includes(etcdMarker)), 'the etcd-shaped server runs under the unit');
  const ctl = path.join(hostRoot, 'usr', 'local', 'bin', `${ename}ctl`);
  const conf = path.join(hostRoot, set.CONF_DIRECTORY, ename, 'etcd.conf');
  t.regex(await readFile(ctl, 'utf8'), new RegExp(`exec runc exec ${ename} etcdctl "\\$@"`), 'renamed and templated');
  t.regex(await readFile(conf, 'utf8'), new RegExp(`ETCD_NAME=default\n[\\s\\S]*# written for ${ename}`));
  t.true(existsSync(path.join(set.STATE_DIRECTORY, 'etcd', ename)), 'tmpfiles.template applied inside the harness');

  await appendFile(conf, '# local change\n');
  await uninstall(ctx, { name: ename, purge: true });
  t.false(existsSync(ctl), 'the unmodified host file is removed');
  t.regex(await readFile(conf, 'utf8'), /# local change\n$/, 'the modified one is kept');
  t.true(said.some((line) => line.includes(`kept ${conf}`)));
  t.is((await ctx.systemd.unitState(`${ename}.service`)).loadState, 'not-found');
  t.false((await processes()).some((p) => p.includes(etcdMarker)));
});

test.serial('on cgroup v2: the container lives below the unit, is restarted after kill -9, and stop leaves nothing', async (t) => {
  await harness.stop();
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness'), cgroupV2: true });
  t.is((await harness.exec(['stat', '-fc', '%T', '/sys/fs/cgroup'])).stdout.trim(), 'cgroup2fs');
  const ctx = context();
  const v2name = `${name}v2`;
  await install(ctx, { name: v2name, image: other.name, set: { STATE_DIRECTORY: path.join(base, 'state') } });
  const runc = ctx.runc as Runc;
  const first = await runc.state(v2name);
  // The unified-hierarchy line (a hybrid host also lists its v1 hierarchies).
  const cgroup = (await harness.exec(['cat', `/proc/${first?.pid}/cgroup`])).stdout.split('\n').find((l) => l.startsWith('0::'));
  t.is(cgroup, `0::/system.slice/${v2name}.service/container`);
  t.is((await harness.exec(['test', '-d', `/sys/fs/cgroup/system.slice/${v2name}.service/container`])).exitCode, 0, 'where uninstall must not leave it');
  t.regex((await status(ctx, { name: v2name })).details ?? '', /svc-marker-two/);

  await harness.exec(['kill', '-9', String(first?.pid)]);
  await waitFor('the container to run again', async () => {
    const now = await runc.state(v2name).catch(() => undefined);
    return now?.status === 'running' && now.pid !== first?.pid;
  });

  await stop(ctx, { name: v2name });
  t.false((await processes()).some((p) => p.includes('svc-marker-two')));
  await uninstall(ctx, { name: v2name, purge: true });
  t.is((await ctx.systemd.unitState(`${v2name}.service`)).loadState, 'not-found');
  // The unit's cgroup and runc's container child in it are gone on v2 too.
  t.is((await harness.exec(['test', '-e', `/sys/fs/cgroup/system.slice/${v2name}.service`])).exitCode, 1, 'no cgroup directory left');
});
