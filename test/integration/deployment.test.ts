// ROOT/NAME.0, NAME.1 and the ROOT/NAME symlink on a real filesystem.
import { lstat, mkdir, readFile, readlink, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DeploymentStore, type DeploymentInfo } from '../../runtime/deployment.js';
import { testBaseDir } from '../helpers/systemd-harness.js';

let seq = 0;
async function store(t: ExecutionContext): Promise<DeploymentStore> {
  const base = await testBaseDir(`deployment-${process.pid}-${++seq}`);
  t.teardown(() => rm(base, { recursive: true, force: true }));
  return new DeploymentStore(path.join(base, 'containers'));
}

function info(name: string, revision: number): DeploymentInfo {
  return {
    version: 1,
    name,
    image: '127.0.0.1:5000/x:1',
    imageId: `sha256:${'a'.repeat(64)}`,
    manifestDigest: `sha256:${'b'.repeat(64)}`,
    set: {},
    values: { UUID: 'u' },
    created: '2026-01-01T00:00:00.000Z',
    runtime: '/usr/sbin/runc',
    revision,
    privileged: false,
    privileges: [],
    source: 'image-config',
    command: ['/bin/sh'],
    stateDirectory: '/var/lib/x',
    hasTmpfiles: false,
    exposedPorts: [],
  };
}

test('a slot is a deployment only once its info is written', async (t) => {
  const d = await store(t);
  const dir = await d.prepareSlot('web', 0);
  await mkdir(path.join(dir, 'rootfs'));
  await d.activate('web', 0);
  t.is(await d.active('web'), undefined, 'no info yet: debris, not a deployment');
  t.deepEqual(await d.names(), []);
  await d.writeInfo(dir, info('web', 1));
  t.is((await d.active('web'))?.info.revision, 1);
  t.deepEqual(await d.names(), ['web']);
  t.deepEqual((await readdir(dir)).sort(), ['info', 'rootfs'], 'no temporary file left');
});

test('activate swaps the symlink and never leaves a temporary link', async (t) => {
  const d = await store(t);
  for (const slot of [0, 1] as const) await d.writeInfo(await d.prepareSlot('web', slot), info('web', slot + 1));
  await d.activate('web', 0);
  t.is(await readlink(d.linkPath('web')), 'web.0');
  await d.activate('web', 1);
  t.is(await readlink(d.linkPath('web')), 'web.1');
  t.is((await d.active('web'))?.slot, 1);
  t.is((await d.inactive('web', 1))?.info.revision, 1);
  t.deepEqual((await readdir(d.root)).sort(), ['web', 'web.0', 'web.1']);
});

test('prepareSlot clears what an interrupted command left, read-only directories included', async (t) => {
  const d = await store(t);
  const dir = await d.prepareSlot('web', 1);
  await mkdir(path.join(dir, 'rootfs', 'usr', 'lib'), { recursive: true });
  await writeFile(path.join(dir, 'rootfs', 'usr', 'lib', 'stale'), 'old');
  await chmod(path.join(dir, 'rootfs', 'usr', 'lib'), 0o555);
  await chmod(path.join(dir, 'rootfs', 'usr'), 0o555);
  await d.prepareSlot('web', 1);
  t.deepEqual(await readdir(dir), []);
});

test('an info that does not parse makes the slot debris', async (t) => {
  const d = await store(t);
  const dir = await d.prepareSlot('web', 0);
  await writeFile(path.join(dir, 'info'), '{"version": 1, "name": "web"');
  await d.activate('web', 0);
  t.is(await d.active('web'), undefined);
  t.true(await d.anyExists('web'));
});

test('removeLink removes only a symlink', async (t) => {
  const d = await store(t);
  await d.writeInfo(await d.prepareSlot('web', 0), info('web', 1));
  await d.activate('web', 0);
  await d.removeLink('web');
  await t.throwsAsync(lstat(d.linkPath('web')));
  t.is(JSON.parse(await readFile(path.join(d.slotDir('web', 0), 'info'), 'utf8')).name, 'web');
});

test('names are validated before any path is made', (t) => {
  const d = new DeploymentStore('/nonexistent');
  t.throws(() => d.slotDir('a/../etc', 0), { message: /characters outside/ });
  t.throws(() => d.linkPath('.x'), { message: /starts with/ });
});
