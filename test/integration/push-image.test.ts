// Pushing built images and OCI layouts to the real docker-registry, and reading them back
// through RegistrySource: every fixture, both multi-platform indexes; skips, mounts, order.
import { buildFixture, buildMultiPlatformFixture, fixtureNames, multiPlatformTags, pushFixtures } from '../helpers/fixtures.js';
import type { BuiltImage, BuiltIndex } from '../../images/build/image.js';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import { pushBuiltImage, pushOciLayout, type PushPrimitives } from '../../images/build/push-image.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { tempDir } from '../helpers/cli.js';
import { collect, fastRetry } from '../helpers/fake-registry.js';
import { startRegistry } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry);

const conf = defaultRegistriesConf();

async function registry(t: import('ava').ExecutionContext): Promise<{ host: string; push: RegistryPush }> {
  const server = await startRegistry();
  t.teardown(() => server.stop());
  const push = new RegistryPush({ registry: server.host, conf, retry: fastRetry, tokenCache: new TokenCache(), authFile: '/nonexistent/auth.json' });
  return { host: server.host, push };
}

function source(host: string, repository: string, tag = 'latest'): RegistrySource {
  return new RegistrySource({ reference: { registry: host, repository, tag }, conf, retry: fastRetry, tokenCache: new TokenCache(), authFile: '/nonexistent/auth.json' });
}

async function assertInRegistry(t: import('ava').ExecutionContext, src: RegistrySource, tag: string, built: BuiltImage | BuiltIndex): Promise<void> {
  const top = await src.fetchManifest(tag);
  const images = 'images' in built ? built.images : [built];
  t.is(top.digest, 'images' in built ? built.indexDigest : built.manifestDigest);
  for (const image of images) {
    const manifest = await src.fetchManifest(image.manifestDigest);
    t.true(manifest.bytes.equals(image.manifestBytes));
    t.true((await collect(await src.openBlob(image.manifest.config))).equals(image.configBytes));
    for (const layer of image.layers) t.true((await collect(await src.openBlob(layer.descriptor))).equals(layer.bytes));
  }
}

test('every fixture and both indexes push and read back; pushing again uploads nothing', async (t) => {
  const { host, push } = await registry(t);
  const pushed = await pushFixtures(push, 'fixtures');
  t.is(pushed.size, fixtureNames.length + 2);
  for (const [name, { built, result }] of pushed) {
    t.true(result.uploaded > 0 || result.present > 0, name);
    await assertInRegistry(t, source(host, `fixtures/${name}`), 'latest', built);
  }
  const again = await pushFixtures(push, 'fixtures', ['layered']);
  const layered = again.get('layered')!;
  t.is(layered.result.uploaded, 0);
  t.is(layered.result.present, (layered.built as BuiltImage).layers.length + 1);
});

test('blobs another repository has are mounted, not uploaded', async (t) => {
  const { host, push } = await registry(t);
  const image = await buildFixture('whiteouts');
  const first = await pushBuiltImage(push, 'team/one', 'v1', image);
  t.is(first.uploaded, image.layers.length + 1);
  const events: string[] = [];
  const second = await pushBuiltImage(push, 'team/two', 'v1', image, { mountFrom: ['team/one'], onEvent: (e) => events.push(e.type) });
  t.deepEqual([second.uploaded, second.mounted, second.present], [0, image.layers.length + 1, 0]);
  t.is(events.at(-1), 'manifest-pushed');
  await assertInRegistry(t, source(host, 'team/two', 'v1'), 'v1', image);
});

test('an OCI layout (dir, index inside) pushes through the layout source', async (t) => {
  const { host, push } = await registry(t);
  const dir = await tempDir(t);
  const index = await buildMultiPlatformFixture();
  const zstd = await buildFixture('zstd');
  await writeOciLayout(dir, [
    { image: index, tag: multiPlatformTags.oci },
    { image: zstd, tag: 'zstd' },
  ]);
  const result = await pushOciLayout(push, 'layout/multi', 'v2', `oci:${dir}:${multiPlatformTags.oci}`);
  t.is(result.digest, index.indexDigest);
  await assertInRegistry(t, source(host, 'layout/multi', 'v2'), 'v2', index);
  t.is((await pushOciLayout(push, 'layout/zstd', 'latest', `oci:${dir}:zstd`)).digest, zstd.manifestDigest);
  await assertInRegistry(t, source(host, 'layout/zstd'), 'latest', zstd);
});

test('order: blobs first, child manifests by digest, the index last under the tag', async (t) => {
  const calls: string[] = [];
  const present = new Set<string>();
  const recorder: PushPrimitives = {
    blobExists: async (_repo, digest) => present.has(digest),
    mountBlob: async () => false,
    uploadBlob: async (_repo, descriptor) => {
      present.add(descriptor.digest);
      calls.push(`blob ${descriptor.digest}`);
    },
    putManifest: async (_repo, reference) => {
      calls.push(`manifest ${reference}`);
      return reference;
    },
  };
  const index = await buildMultiPlatformFixture('docker');
  await pushBuiltImage(recorder, 'r', 'tag', index);
  const firstManifest = calls.findIndex((c) => c.startsWith('manifest'));
  t.true(calls.slice(0, firstManifest).every((c) => c.startsWith('blob')));
  t.deepEqual(calls.slice(firstManifest), [...index.images.map((i) => `manifest ${i.manifestDigest}`), 'manifest tag']);
  // Blobs shared by both platforms (the common layer) are sent once.
  t.is(new Set(calls).size, calls.length);
});
