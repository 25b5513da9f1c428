// `syscontainer push` end to end with the real CLI, real ostree and two real docker-registry
// servers on loopback: layouts round-trip byte for byte; store images (whose layers are
// regenerated from OSTree) pulled back from the destination check out like the fixture.
import { execa } from 'execa';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuiltImage, BuiltIndex } from '../../images/build/image.js';
import { writeOciArchive } from '../../images/build/oci-layout.js';
import { checkoutImage, ImageStore } from '../../store/index.js';
import { MediaType } from '../../store/oci/oci-types.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { fixture, multiPlatformFixture, multiPlatformTags, pushFixtures, rootfsMismatches, writeFixtureLayout, type FixtureName } from '../helpers/fixtures.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry, { tools: ['htpasswd'] });

let source: RegistryServer;
let dest: RegistryServer;
let pushed: Map<string, { built: BuiltImage | BuiltIndex }>;

const storeFixtures: FixtureName[] = ['whiteouts', 'links', 'modes', 'no-parents', 'docker', 'zstd', 'empty-layer'];

test.before(async () => {
  [source, dest] = await Promise.all([startRegistry(), startRegistry()]);
  pushed = await pushFixtures(new RegistryPush({ registry: source.host, conf: defaultRegistriesConf() }), 'fixtures', storeFixtures);
});

test.after.always(async () => {
  await Promise.all([source?.stop(), dest?.stop()]);
});

async function catFromStore(root: string, ref: string, file: string): Promise<string> {
  return (await execa('ostree', ['cat', `--repo=${join(root, '.storage', 'ostree')}`, ref, file])).stdout;
}

test('push oci:DIR to a registry: pulling it back gives the same manifest digest', async (t) => {
  const work = await tempDir(t);
  const layout = join(work, 'layout');
  const built = await writeFixtureLayout(layout, ['links', 'docker']);
  for (const tag of ['links', 'docker']) {
    const target = `${dest.host}/layout/${tag}:v1`;
    const pushedResult = await runCli(['--root', join(work, 'unused-root'), 'push', `oci:${layout}:${tag}`, target]);
    t.is(pushedResult.exitCode, 0, pushedResult.stderr);
    const digest = (built.get(tag) as BuiltImage).manifestDigest;
    t.is(pushedResult.stdout.trim(), digest, 'prints the pushed manifest digest');
    t.regex(pushedResult.stderr, /uploaded/);

    const root = await tempDir(t);
    const pulled = await runCli(['--root', root, 'pull', target]);
    t.is(pulled.exitCode, 0, pulled.stderr);
    t.is(pulled.stdout.trim(), digest, 'the registry serves the very manifest of the layout');
  }
});

test('push of a multi-platform index from oci-archive: every platform arrives', async (t) => {
  const work = await tempDir(t);
  const layout = join(work, 'layout');
  const built = await writeFixtureLayout(layout, []);
  const index = built.get(multiPlatformTags.oci) as BuiltIndex;
  const archive = join(work, 'image.tar');
  await writeOciArchive(archive, [{ image: index, tag: 'multi' }]);
  const target = `${dest.host}/layout/multi:latest`;
  const result = await runCli(['push', `oci-archive:${archive}:multi`, target]);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout.trim(), index.indexDigest);
  for (const platform of multiPlatformFixture('oci')) {
    const root = await tempDir(t);
    const arch = platform.platform.architecture;
    const pulled = await runCli(['--root', root, 'pull', '--platform', `linux/${arch}`, target]);
    t.is(pulled.exitCode, 0, pulled.stderr);
    t.is(pulled.stdout.trim(), index.index.manifests.find((m) => m.platform?.architecture === arch)!.digest);
  }
});

for (const name of storeFixtures) {
  test(`store image ${name}: pull from A, push to B, pull from B into a fresh root: same rootfs`, async (t) => {
    const first = await tempDir(t);
    const original = pushed.get(name)!.built as BuiltImage;
    t.is((await runCli(['--root', first, 'pull', `${source.host}/fixtures/${name}`])).exitCode, 0);

    const target = `${dest.host}/from-store/${name}:v2`;
    const result = await runCli(['--root', first, 'push', `fixtures/${name}`, target]);
    t.is(result.exitCode, 0, result.stderr);
    const digest = result.stdout.trim();
    t.regex(digest, /^sha256:[a-f0-9]{64}$/);
    t.not(digest, original.manifestDigest, 'layers are regenerated, so the manifest is new');
    const uploads = result.stderr.split('\n').filter((line) => / uploaded \(/.test(line));
    t.true(uploads.length >= 2, `one line per uploaded blob:\n${result.stderr}`);
    t.deepEqual(await readdir(join(first, '.storage', 'tmp')), [], 'temporary layer files are removed');

    const second = await tempDir(t);
    const pulled = await runCli(['--root', second, 'pull', target]);
    t.is(pulled.exitCode, 0, pulled.stderr);
    t.is(pulled.stdout.trim(), digest);

    const store = new ImageStore(second);
    const image = (await store.getImage(target))!;
    t.is(image.manifest.layers.length, original.layers.length);
    const docker = name === 'docker';
    t.is(image.manifest.mediaType ?? MediaType.ociManifest, docker ? MediaType.dockerManifest : MediaType.ociManifest, 'same media-type family');
    for (const layer of image.manifest.layers) t.is(layer.mediaType, docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip);

    // The config is the original one with new diff_ids; nothing else changed.
    const pushedConfig = JSON.parse(await catFromStore(second, `ociimage/${image.configDigest.slice(7)}`, '/content')) as Record<string, unknown>;
    const originalConfig = JSON.parse(original.configBytes.toString('utf8')) as { rootfs: { diff_ids: string[] } };
    t.deepEqual(pushedConfig, { ...originalConfig, rootfs: { ...originalConfig.rootfs, diff_ids: image.config.rootfs.diff_ids } });
    t.notDeepEqual(image.config.rootfs.diff_ids, originalConfig.rootfs.diff_ids);

    const rootfs = join(second, 'rootfs');
    await checkoutImage(store, image, rootfs);
    t.deepEqual(await rootfsMismatches(rootfs, fixture(name).expect), []);
  });
}

test('pushing a store image again uploads nothing and gives the same digest', async (t) => {
  const root = await tempDir(t);
  t.is((await runCli(['--root', root, 'pull', `${source.host}/fixtures/whiteouts`])).exitCode, 0);
  const target = `${dest.host}/again/whiteouts:latest`;
  const first = await runCli(['--root', root, 'push', `${source.host}/fixtures/whiteouts:latest`, target]);
  t.is(first.exitCode, 0, first.stderr);
  t.regex(first.stderr, /3 blob\(s\) uploaded, 0 mounted, 0 already present/);
  const again = await runCli(['--root', root, 'push', 'fixtures/whiteouts', target]);
  t.is(again.exitCode, 0, again.stderr);
  t.is(again.stdout.trim(), first.stdout.trim(), 'regenerating the layers is deterministic');
  t.regex(again.stderr, /0 blob\(s\) uploaded, 0 mounted, 3 already present/);
  t.is(again.stderr.split('\n').filter((line) => /^[a-f0-9]{12}  already present$/.test(line)).length, 3, 'one line per blob');
});

test('--mount-from: blobs of another repository are mounted, not uploaded', async (t) => {
  const root = await tempDir(t);
  t.is((await runCli(['--root', root, 'pull', `${source.host}/fixtures/modes`])).exitCode, 0);
  t.is((await runCli(['--root', root, 'push', 'fixtures/modes', `${dest.host}/mount/one`])).exitCode, 0);
  const second = await runCli(['--root', root, 'push', '--mount-from', 'mount/one', 'fixtures/modes', `${dest.host}/mount/two:latest`]);
  t.is(second.exitCode, 0, second.stderr);
  t.regex(second.stderr, /0 blob\(s\) uploaded, 2 mounted, 0 already present/);
  t.regex(second.stderr, /mounted from mount\/one/);
});

test('push a store image to oci:DIR, then pull the layout: same digest and rootfs', async (t) => {
  const root = await tempDir(t);
  t.is((await runCli(['--root', root, 'pull', `${source.host}/fixtures/links`])).exitCode, 0);
  const layout = join(await tempDir(t), 'out');
  const result = await runCli(['--root', root, 'push', 'fixtures/links', `oci:${layout}:exported`]);
  t.is(result.exitCode, 0, result.stderr);
  const fresh = await tempDir(t);
  const pulled = await runCli(['--root', fresh, 'pull', `oci:${layout}:exported`]);
  t.is(pulled.exitCode, 0, pulled.stderr);
  t.is(pulled.stdout.trim(), result.stdout.trim());
  const store = new ImageStore(fresh);
  const image = (await store.getImage('localhost/out:exported'))!;
  const rootfs = join(fresh, 'rootfs');
  await checkoutImage(store, image, rootfs);
  t.deepEqual(await rootfsMismatches(rootfs, fixture('links').expect), []);
});

test('a bad DEST is refused with one line naming it, before any work', async (t) => {
  const root = await tempDir(t);
  for (const bad of ['Bad//Dest:x', `${dest.host}/repo@sha256:${'0'.repeat(64)}`, `oci-archive:${join(root, 'x.tar')}`]) {
    const result = await runCli(['--root', root, 'push', 'fixtures/whiteouts', bad]);
    t.not(result.exitCode, 0);
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('hint:'));
    t.is(lines.length, 1, result.stderr);
    t.true(lines[0]!.startsWith('error: ') && lines[0]!.includes(bad), result.stderr);
  }
});

test('a SOURCE that is not in the store is refused naming it', async (t) => {
  const root = await tempDir(t);
  const result = await runCli(['--root', root, 'push', 'nothing/here:1', `${dest.host}/x/y`]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /^error: image nothing\/here:1 is not in the store$/m);
});

test('an unreachable destination registry fails naming it', async (t) => {
  const root = await tempDir(t);
  t.is((await runCli(['--root', root, 'pull', `${source.host}/fixtures/no-parents`])).exitCode, 0);
  const result = await runCli(['--root', root, 'push', 'fixtures/no-parents', '127.0.0.1:1/x/y:z']);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /^error: .*127\.0\.0\.1:1\/x\/y/m);
  t.deepEqual(await readdir(join(root, '.storage', 'tmp')), [], 'temporary layer files are removed after a failure');
});

test('--help documents that store images get new digests', async (t) => {
  const result = await runCli(['push', '--help']);
  t.is(result.exitCode, 0);
  t.regex(result.stdout, /store images get regenerated layers, so new digests/);
});

test('a layer export that fails errors instead of ending, so no truncated tar is pushed', async (t) => {
  const root = await tempDir(t);
  t.is((await runCli(['--root', root, 'pull', `${source.host}/fixtures/modes`])).exitCode, 0);
  const repo = new ImageStore(root).repo;
  const stream = repo.exportTar('0'.repeat(64));
  const error = await t.throwsAsync(async () => {
    for await (const chunk of stream) t.truthy(chunk);
  });
  t.regex(error?.message ?? '', /export 0{64}: .*No such metadata object/);
});

test('a registry with htpasswd: push fails naming the registry without credentials, works with --auth-file after login', async (t) => {
  const guarded = await startRegistry({ htpasswd: { username: 'alice', password: 's3cret' } });
  t.teardown(() => guarded.stop());
  const work = await tempDir(t);
  const layout = join(work, 'layout');
  const built = await writeFixtureLayout(layout, ['modes']);
  const authFile = join(work, 'auth.json');
  const target = `${guarded.host}/private/modes:1`;

  const refused = await runCli(['--auth-file', authFile, 'push', `oci:${layout}:modes`, target]);
  t.is(refused.exitCode, 1);
  t.regex(refused.stderr, new RegExp(`^error: .*${guarded.host.replace(/\./g, '\\.')}.*authentication required`, 'm'));

  const login = await runCli(['--auth-file', authFile, 'login', '-u', 'alice', '--password-stdin', guarded.host], {}, 's3cret\n');
  t.is(login.exitCode, 0, login.stderr);
  const pushedResult = await runCli(['push', `oci:${layout}:modes`, target], { REGISTRY_AUTH_FILE: authFile });
  t.is(pushedResult.exitCode, 0, pushedResult.stderr);
  t.is(pushedResult.stdout.trim(), (built.get('modes') as BuiltImage).manifestDigest);
});
