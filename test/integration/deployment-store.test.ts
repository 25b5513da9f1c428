// The runtime on top of the real OSTree store: an image imported into the store, checked out
// by hardlinks into a deployment, run by runc (no systemd). Covers Atomic-style /exports images.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, rm, stat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { LayerEntry } from '../../images/build/layer.js';
import type { RuntimeContext } from '../../runtime/context.js';
import { runtimeStoreOf } from '../../runtime/image-store-adapter.js';
import { exec, install, start, uninstall, update, status } from '../../runtime/index.js';
import { rootfsInUse } from '../../runtime/rootfs-users.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { ImageStore, imageRootfsDir, type StoredImage } from '../../store/index.js';
import { buildImage, storeImage } from '../helpers/store-fixtures.js';
import { testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding, toolPath } from '../helpers/host-requirements.js';
import { stopMonitors } from '../helpers/monitors.js';

const test = testNeeding(needs.runc, needs.busybox);

const runtimePath = toolPath('runc') ?? 'runc';
const applets = ['sh', 'sleep', 'cat', 'touch', 'echo'];

async function busyboxEntries(): Promise<LayerEntry[]> {
  const busybox = await readFile('/bin/busybox').catch(() => {
    throw new Error('/bin/busybox is missing: install Debian busybox-static (scripts/setup-host.sh)');
  });
  return [
    { type: 'dir', path: 'bin', mode: 0o755 },
    { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
    ...applets.map((a): LayerEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { type: 'dir', path: 'etc', mode: 0o755 },
    { type: 'file', path: 'etc/passwd', content: 'root:x:0:0::/:/bin/sh\n', mode: 0o644 },
  ];
}

const loop = (marker: string) => ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`];

let seq = 0;
async function setup(t: ExecutionContext) {
  const n = ++seq; // before any await: tests run concurrently, and names must differ
  const base = await testBaseDir(`deployment-store-${process.pid}-${n}`);
  const store = new ImageStore(path.join(base, 'root'));
  const runc = new Runc({ runtimePath, stateRoot: path.join(base, 'runc-state'), prefix: [] });
  const name = `ds${process.pid}x${n}`;
  const ctx: RuntimeContext<StoredImage> = {
    root: path.join(base, 'root'),
    unitDir: path.join(base, 'units'),
    tmpfilesDir: path.join(base, 'tmpfiles'),
    runtimePath,
    store: runtimeStoreOf(store),
    systemd: new Systemd({ prefix: [] }),
    runc,
    settleMs: 800,
  };
  await mkdir(path.join(base, 'state'));
  t.teardown(async () => {
    // The monitors first: one whose container was deleted under it would run it again.
    await stopMonitors({ under: base });
    for (const s of await runc.list().catch(() => [])) await runc.delete(s.id, { force: true }).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
    execFileSync('sh', ['-c', `for h in /sys/fs/cgroup/*; do rmdir $h/system.slice/${name}.service 2>/dev/null; done; true`]);
  });
  return { base, store, ctx, name, state: path.join(base, 'state') };
}

test('install from the store: hardlinked read-only rootfs, update keeps UUID, uninstall keeps the image', async (t) => {
  const { store, ctx, name, state } = await setup(t);
  const entries = await busyboxEntries();
  await storeImage(store, '127.0.0.1:5000/bb:1', await buildImage([{ entries }], { config: { Cmd: loop('store-v1') } }));

  const first = await install(ctx, { name, image: '127.0.0.1:5000/bb:1', set: { STATE_DIRECTORY: state } });
  const rootfs = path.join(ctx.root, `${name}.0`, 'rootfs');
  t.true((await stat(path.join(rootfs, 'bin', 'busybox'))).nlink > 1, 'checked out as a hardlink into the repository');
  const inside = await exec(ctx, { name, command: ['sh', '-c', 'cat /proc/1/cmdline; touch /bin/busybox 2>&1 || true'] });
  t.true(inside.stdout.includes('store-v1'));
  t.regex(inside.stdout, /Read-only file system/, 'a write through the hardlink is refused');
  t.is(first.info.imageId, (await store.getImage('127.0.0.1:5000/bb:1'))?.configDigest ?? 'image missing');

  // A newer pull of the same tag.
  await storeImage(store, '127.0.0.1:5000/bb:1', await buildImage([{ entries }], { config: { Cmd: loop('store-v2') } }));
  const second = await update(ctx, { name });
  t.true(second.changed);
  t.is(second.info.values.UUID, first.info.values.UUID);
  t.true((await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout.includes('store-v2'));

  await uninstall(ctx, { name });
  t.not(await store.getImage('127.0.0.1:5000/bb:1'), undefined, 'the image stays in the store');
});

test('an Atomic image with /exports: its templates, manifest defaultValues and --set are used', async (t) => {
  const { store, ctx, name, state } = await setup(t);
  const configTemplate = JSON.stringify({
    ociVersion: '1.0.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/sh', '-c', 'echo greeting=$GREETING uuid=$UUID; trap "exit 0" TERM; while true; do sleep 1; done'],
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    },
    root: { path: 'rootfs', readonly: false },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/var/lib/app', type: 'bind', source: '$STATE_DIRECTORY/$NAME', options: ['rbind', 'rw'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
  });
  const exportsEntries: LayerEntry[] = [
    { type: 'dir', path: 'exports', mode: 0o755 },
    { type: 'file', path: 'exports/config.json.template', content: configTemplate, mode: 0o644 },
    { type: 'file', path: 'exports/manifest.json', content: JSON.stringify({ defaultValues: { GREETING: 'from-manifest' } }), mode: 0o644 },
    { type: 'file', path: 'exports/tmpfiles.template', content: 'd $STATE_DIRECTORY/$NAME 0700 $HOST_UID $HOST_GID - -\n', mode: 0o644 },
  ];
  await storeImage(store, '127.0.0.1:5000/atomic:1', await buildImage([{ entries: await busyboxEntries() }, { entries: exportsEntries }], { config: {} }));

  await install(ctx, { name, image: '127.0.0.1:5000/atomic:1', set: { STATE_DIRECTORY: state } });
  const st = await status(ctx, { name });
  t.is(st.state, 'running');
  const cmdline = (await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout;
  t.regex(cmdline, /greeting=from-manifest uuid=[0-9a-f-]{36}/);
  t.is((await exec(ctx, { name, command: ['sh', '-c', 'echo x > /var/lib/app/f'] })).exitCode, 0);
  t.is(await readFile(path.join(state, name, 'f'), 'utf8'), 'x\n');
  const spec = JSON.parse(await readFile(path.join(ctx.root, name, 'config.json'), 'utf8'));
  t.true(spec.root.readonly, 'read-only root forced over the image template');

  await update(ctx, { name, set: { GREETING: 'from-set' } });
  t.regex((await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout, /greeting=from-set/);
  await uninstall(ctx, { name, purge: true });
});

/** Bytes the tree takes, each hardlinked file once (du's default), directories included. */
function diskBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

test('containers of one image share its rootfs: a second install adds only its deployment; the rootfs goes with the image', async (t) => {
  const { store, ctx, name, state } = await setup(t);
  const reference = '127.0.0.1:5000/shared:1';
  // Enough directories that a checkout of its own would show in du (each directory is 4 KiB).
  const dirs: LayerEntry[] = Array.from({ length: 40 }, (_, i): LayerEntry => ({ type: 'dir', path: `usr/share/d${i}`, mode: 0o755 }));
  const image = await buildImage([{ entries: [...(await busyboxEntries()), { type: 'dir', path: 'usr', mode: 0o755 }, { type: 'dir', path: 'usr/share', mode: 0o755 }, ...dirs] }], {
    config: { Cmd: loop('shared') },
  });
  await storeImage(store, reference, image);
  const stored = (await store.getImage(reference))!;
  const shared = imageRootfsDir(ctx.root, stored.configDigest);
  const set = { STATE_DIRECTORY: state };

  await install(ctx, { name, image: reference, set, start: false });
  t.true(existsSync(path.join(shared, 'usr/share/d39')), 'the first install made the image rootfs (the image was stored without one)');
  const before = diskBytes(ctx.root);
  await install(ctx, { name: `${name}b`, image: reference, set, start: false });
  const grown = diskBytes(ctx.root) - before;
  t.log(`second install: +${grown} bytes`);
  t.true(grown < 64 * 1024, `a second install adds its deployment only (+${grown} bytes)`);
  for (const each of [name, `${name}b`]) {
    const spec = JSON.parse(await readFile(path.join(ctx.root, each, 'config.json'), 'utf8'));
    t.is(spec.root.path, shared, `${each} runs from the shared rootfs`);
    t.true(spec.root.readonly);
    t.is(await readlink(path.join(ctx.root, `${each}.0`, 'rootfs')), shared);
  }
  await start(ctx, { name });
  t.true((await exec(ctx, { name, command: ['cat', '/proc/1/cmdline'] })).stdout.includes('shared'));

  // Uninstalling both keeps the rootfs: it belongs to the image, which is still stored.
  await uninstall(ctx, { name });
  await uninstall(ctx, { name: `${name}b` });
  t.true(existsSync(shared));

  // Deleting the image while a container uses it (images delete --force) keeps the rootfs
  // until that container goes; then nothing of it is left.
  await install(ctx, { name, image: reference, set, start: false });
  await store.deleteImage(reference, rootfsInUse(ctx.root));
  t.true(existsSync(shared), 'kept while a deployment uses it');
  await uninstall(ctx, { name });
  t.false(existsSync(shared), 'removed with its last user');
  t.deepEqual(await readdir(path.join(ctx.root, '.storage', 'rootfs')), []);
});

test('prune removes the rootfs of images no longer stored and the debris of killed checkouts, and keeps what is used', async (t) => {
  const { store, ctx, name, state } = await setup(t);
  await storeImage(store, '127.0.0.1:5000/kept:1', await buildImage([{ entries: await busyboxEntries() }], { config: { Cmd: loop('kept') } }));
  await storeImage(store, '127.0.0.1:5000/gone:1', await buildImage([{ entries: await busyboxEntries() }], { config: { Cmd: loop('gone') } }));
  const kept = (await store.getImage('127.0.0.1:5000/kept:1'))!;
  const gone = (await store.getImage('127.0.0.1:5000/gone:1'))!;
  await install(ctx, { name, image: '127.0.0.1:5000/gone:1', set: { STATE_DIRECTORY: state }, start: false });
  await install(ctx, { name: `${name}k`, image: '127.0.0.1:5000/kept:1', set: { STATE_DIRECTORY: state }, start: false });
  await uninstall(ctx, { name: `${name}k` });
  // The image is deleted without asking about deployments, as a crash between the two steps would leave it.
  await store.deleteImage('127.0.0.1:5000/gone:1', rootfsInUse(ctx.root));
  const parent = path.join(ctx.root, '.storage', 'rootfs');
  const orphan = imageRootfsDir(ctx.root, `sha256:${'ab'.repeat(32)}`);
  await mkdir(path.join(orphan, 'bin'), { recursive: true });
  await mkdir(path.join(parent, `${'cd'.repeat(32)}.tmp-x1y2z3`, 'etc'), { recursive: true });

  const report = await store.prune({ rootfsInUse: rootfsInUse(ctx.root) });
  t.deepEqual(report.removedRootfs, [`sha256:${'ab'.repeat(32)}`]);
  t.deepEqual((await readdir(parent)).sort(), [gone.configDigest.slice(7), kept.configDigest.slice(7)].sort(), 'the used and the stored image rootfs stay');
  await uninstall(ctx, { name });
  t.deepEqual(await readdir(parent), [kept.configDigest.slice(7)]);
});
