// daemon-reload only where systemd holds an older version of a unit we wrote (a reload re-reads
// every unit on the host and is serialised host-wide): counted by the harness' generator, which
// runs at every reload (countReloads). Each test also checks what systemd runs, as a user would.
// Needs root, runc, systemd and /bin/busybox. Serial: one harness, shared cgroup hierarchies.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeContext } from '../../runtime/context.js';
import { install, status, stop, start, uninstall, update } from '../../runtime/index.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { busyboxStore, testImage, type TestImage } from '../helpers/busybox-image.js';
import { removeHarnessUnitCgroups, SystemdHarness, testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';
import { waitFor } from '../helpers/wait-for.js';

const test = testNeeding(needs.systemd, needs.busybox);

const runtimePath = toolPath('runc') ?? 'runc';
const serviceScript = (marker: string) => ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`];

const one = testImage('127.0.0.1:5000/reload-one:1', { Cmd: serviceScript('reload-marker-one') });
const two = testImage('127.0.0.1:5000/reload-two:1', { Cmd: serviceScript('reload-marker-two') });
const store = busyboxStore([one, two]);

let base = '';
let harness: SystemdHarness;
const name = `rl${process.pid}`;
const unit = `${name}.service`;

function context(): RuntimeContext<TestImage> {
  return {
    root: path.join(base, 'containers'),
    unitDir: path.join(base, 'units'),
    tmpfilesDir: path.join(base, 'tmpfiles'),
    runtimePath,
    store,
    systemd: new Systemd({ prefix: harness.prefix }),
    runc: new Runc({ runtimePath, prefix: harness.prefix }),
    settleMs: 1500,
  };
}

const set = () => ({ STATE_DIRECTORY: path.join(base, 'state') });

async function systemctl(...args: string[]): Promise<string> {
  return (await harness.exec(['systemctl', '--no-pager', ...args])).stdout.trim();
}

/** The reloads `body` made. */
async function reloadsDuring(body: () => Promise<unknown>): Promise<number> {
  const before = await harness.countReloads();
  await body();
  return (await harness.countReloads()) - before;
}

test.before(async () => {
  base = await testBaseDir(`systemd-reloads-${process.pid}`);
  for (const dir of ['units', 'tmpfiles', 'containers', 'state']) await mkdir(path.join(base, dir));
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
});

test.after.always(async () => {
  await harness?.stop();
  if (base !== '') await rm(base, { recursive: true, force: true });
  removeHarnessUnitCgroups(name);
});

test.serial('the harness counts reloads', async (t) => {
  t.is(await reloadsDuring(() => harness.exec(['systemctl', 'daemon-reload'])), 1);
});

test.serial('install and start of a new container make no reload; it runs, enabled', async (t) => {
  const ctx = context();
  t.is(await reloadsDuring(() => install(ctx, { name, image: one.name, set: set() })), 0);
  t.is(await systemctl('is-active', unit), 'active');
  t.regex(await systemctl('status', unit), /reload-marker-one/);
  t.is(await systemctl('is-enabled', unit), 'enabled');
  t.true((await status(ctx, { name })).enabled, 'status reads the unit directory, not the state systemd cached before the enable');
});

test.serial('an update of a loaded unit reloads once; systemd runs the new ExecStart', async (t) => {
  // After a boot the enabled unit is pulled in by multi-user.target, so it stays loaded while
  // the update has it stopped: systemd holds the old unit when the new one is written.
  await harness.reboot();
  const ctx = context();
  await waitFor('the unit to be active after boot', async () => (await systemctl('is-active', unit)) === 'active');
  t.regex(await systemctl('show', '-p', 'ExecStart', unit), new RegExp(`--bundle \\S+/${name}\\.0 `));
  t.is(await reloadsDuring(() => update(ctx, { name, rebase: two.name })), 1);
  t.regex(await systemctl('show', '-p', 'ExecStart', unit), new RegExp(`--bundle \\S+/${name}\\.1 `), 'the new deployment runs');
  t.is(await systemctl('show', '-p', 'NeedDaemonReload', unit), 'NeedDaemonReload=no');
  t.is(await systemctl('is-active', unit), 'active');
  t.regex(await systemctl('status', unit), /reload-marker-two/);
});

test.serial('a lock repair that rewrites a loaded unit reloads it', async (t) => {
  const ctx = context();
  // What a command killed between the symlink swap and the unit's publishing leaves: the
  // host's unit of the other deployment, newer on disk than what systemd loaded.
  await copyFile(path.join(ctx.root, `${name}.0`, unit), path.join(ctx.unitDir, unit));
  t.is(await systemctl('show', '-p', 'NeedDaemonReload', unit), 'NeedDaemonReload=yes');
  t.is(await reloadsDuring(() => stop(ctx, { name })), 1);
  t.is(await systemctl('show', '-p', 'NeedDaemonReload', unit), 'NeedDaemonReload=no');
  await start(ctx, { name });
  t.regex(await systemctl('show', '-p', 'ExecStart', unit), new RegExp(`--bundle \\S+/${name}\\.1 `));
  t.regex(await systemctl('status', unit), /reload-marker-two/);
});

test.serial('uninstall leaves no unit loaded; the same name installs and runs again', async (t) => {
  const ctx = context();
  // Pulled in at boot: still loaded after its stop, so this uninstall needs its reload.
  t.is(await reloadsDuring(() => uninstall(ctx, { name, purge: true })), 1);
  t.is(await systemctl('show', '-p', 'LoadState', unit), 'LoadState=not-found');
  t.is(await systemctl('list-units', '--all', '--plain', '--no-legend', `${name}*`), '');
  // systemd has just answered not-found for the unit: the install must get it loaded anyway.
  await install(ctx, { name, image: one.name, set: set() });
  t.is(await systemctl('is-active', unit), 'active');
  t.regex(await systemctl('show', '-p', 'ExecStart', unit), new RegExp(`--bundle \\S+/${name}\\.0 `));
  t.regex(await systemctl('status', unit), /reload-marker-one/);
  // Never pulled in by a boot: stopped, systemd drops it, nothing to reload.
  t.is(await reloadsDuring(() => uninstall(ctx, { name, purge: true })), 0);
  t.is(await systemctl('show', '-p', 'LoadState', unit), 'LoadState=not-found');
  t.is(await systemctl('list-units', '--all', '--plain', '--no-legend', `${name}*`), '');
});
