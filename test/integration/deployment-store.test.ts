// The runtime on top of the real OSTree store: an image imported into the store, checked out
// by hardlinks into a deployment, run by runc (no systemd). Covers Atomic-style /exports images.
import { execFileSync } from 'node:child_process';
import { readFile, rm, stat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { LayerEntry } from '../../images/build/layer.js';
import type { RuntimeContext } from '../../runtime/context.js';
import { runtimeStoreOf } from '../../runtime/image-store-adapter.js';
import { exec, install, uninstall, update, status } from '../../runtime/lifecycle.js';
import { Runc } from '../../runtime/runc.js';
import { Systemd } from '../../runtime/systemd.js';
import { ImageStore, type StoredImage } from '../../store/index.js';
import { buildImage, storeImage } from '../helpers/store-fixtures.js';
import { testBaseDir } from '../helpers/systemd-harness.js';

const runtimePath = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
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
