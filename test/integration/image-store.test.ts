import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildLayer } from '../../images/build/layer.js';
import { SyscontainerError } from '../../common/errors.js';
import { ImageStore } from '../../store/image-store.js';
import { blobRef, imageRef } from '../../store/ref-names.js';
import { buildImage, descriptorOf, storeImage, tempStore, verifiedStream } from '../helpers/store-fixtures.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.store);

const name = '127.0.0.1:5000/team/web:v1';

async function twoLayerImage(tag = 'a') {
  return buildImage([
    { entries: [{ type: 'file', path: 'etc/os-release', content: `ID=${tag}\n` }] },
    { entries: [{ type: 'file', path: 'srv/app', content: `app ${tag}` }], options: { compression: 'zstd' } },
  ]);
}

test('writes an image in the Atomic layout and reads it back by name, short name, id and digest', async (t) => {
  const { store } = await tempStore(t);
  const image = await twoLayerImage();
  await storeImage(store, name, image);

  const stored = await store.getImage(name);
  t.truthy(stored);
  t.is(stored!.ref, 'ociimage/127.0.0.1_3A5000_2Fteam_2Fweb_3Av1');
  t.is(stored!.manifestDigest, image.manifestDigest);
  t.is(stored!.configDigest, image.configDigest);
  t.is(stored!.created, '2024-01-02T03:04:05Z');
  t.deepEqual(stored!.layers.map((l) => l.digest), image.layers.map((l) => l.digest));
  t.is(stored!.size, image.layers.reduce((sum, l) => sum + l.tar.length, 0));
  t.deepEqual(await store.repo.commitMetadata(stored!.commit), { 'docker.manifest': image.manifest.toString(), 'docker.digest': image.manifestDigest });
  t.deepEqual(await store.repo.readFile(stored!.commit, '/manifest.json'), image.manifest);
  const configCommit = await store.repo.resolveRef(blobRef(image.configDigest));
  t.deepEqual(await store.repo.readFile(configCommit!, '/content'), image.config);

  for (const query of ['team/web:v1', 'web:v1', image.configDigest.slice(7, 19), image.configDigest, image.manifestDigest, `sha256:${image.configDigest.slice(7, 27)}`]) {
    t.is((await store.getImage(query))?.name, name, query);
  }
  t.is(await store.getImage('web:v2'), undefined);
  t.is(await store.getImage(image.configDigest.slice(7, 15)), undefined, 'ids need 12 hex digits');
  t.deepEqual((await store.listImages()).map((i) => i.name), [name]);
  t.true((await store.verifyImage(name)).ok);
});

test('a short name matching several images is EINVAL; tag latest is implied', async (t) => {
  const { store } = await tempStore(t);
  await storeImage(store, 'reg.one/app:latest', await twoLayerImage('1'));
  await storeImage(store, 'reg.two/app:latest', await twoLayerImage('2'));
  const error = await t.throwsAsync(store.getImage('app'));
  t.is((error as SyscontainerError).code, 'EINVAL');
  t.is((await store.getImage('reg.two/app'))?.name, 'reg.two/app:latest');
});

// Two registries hold app: registries.conf's order decides, as for pull; only when it cannot
// (neither registry listed) is the short name ambiguous.
test('a short name matching several images: registries.conf order decides, else EINVAL', async (t) => {
  const { root, store } = await tempStore(t);
  await storeImage(store, 'reg.one/app:latest', await twoLayerImage('1'));
  await storeImage(store, 'reg.two/app:latest', await twoLayerImage('2'));
  const withConf = async (text: string) => {
    const conf = join(root, `registries-${text.length}.conf`);
    await writeFile(conf, text);
    return new ImageStore(root, { registriesConf: conf });
  };
  t.is((await (await withConf('unqualified-search-registries = ["reg.two", "reg.one"]\n')).getImage('app'))?.name, 'reg.two/app:latest');
  t.is((await (await withConf('unqualified-search-registries = ["reg.none", "reg.one", "reg.two"]\n')).getImage('app:latest'))?.name, 'reg.one/app:latest', 'the first candidate stored');
  const undecided = await t.throwsAsync((await withConf('unqualified-search-registries = ["reg.none"]\n')).getImage('app'));
  t.is((undecided as SyscontainerError).code, 'EINVAL');
});

test('writeImage refuses until every layer and the config are stored', async (t) => {
  const { store } = await tempStore(t);
  const image = await twoLayerImage();
  const [first] = image.layers;
  await store.importLayer(descriptorOf(first!), verifiedStream(first!.bytes), first!.diffId);
  await store.writeConfig(image.configDigest, image.config);
  const error = await t.throwsAsync(store.writeImage(name, image.manifest, image.manifestDigest));
  t.is((error as SyscontainerError).code, 'ENOTFOUND');
  t.regex(error!.message, /layer sha256:[0-9a-f]{12}… is not stored/);
  t.is(await store.repo.resolveRef(imageRef(name)), undefined);
  const bad = await t.throwsAsync(store.writeImage(name, image.manifest, `sha256:${'0'.repeat(64)}`));
  t.is((bad as SyscontainerError).code, 'EINTEGRITY');
  const badConfig = await t.throwsAsync(store.writeConfig(`sha256:${'1'.repeat(64)}`, image.config));
  t.is((badConfig as SyscontainerError).code, 'EINTEGRITY');
});

test('reads an image written the way atomic/skopeo did (manifest only in metadata)', async (t) => {
  const { store } = await tempStore(t);
  const image = await twoLayerImage();
  for (const layer of image.layers) await store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), layer.diffId);
  await store.writeConfig(image.configDigest, image.config);
  const commit = await store.repo.commitFiles({ other: Buffer.from('x') }, { 'docker.manifest': image.manifest.toString(), 'docker.digest': image.manifestDigest });
  await store.repo.setRef('ociimage/docker.io_2Fgscrivano_2Fspc-etcd_3Alatest', commit);
  const stored = await store.getImage('gscrivano/spc-etcd');
  t.is(stored?.name, 'docker.io/gscrivano/spc-etcd:latest');
  t.is(stored?.layers.length, 2);
  t.true((await store.verifyImage('docker.io/gscrivano/spc-etcd:latest')).ok);
});

test('verifyImage reports a layer whose metadata no longer matches', async (t) => {
  const { store } = await tempStore(t);
  const image = await twoLayerImage();
  await storeImage(store, name, image);
  const other = await buildLayer([{ type: 'file', path: 'x', content: 'other' }]);
  const imported = await store.importLayer(descriptorOf(other), verifiedStream(other.bytes), other.diffId);
  await store.repo.setRef(blobRef(image.layers[1]!.digest), imported.commit);
  await store.repo.deleteRef(blobRef(image.configDigest));
  const report = await store.verifyImage(name);
  t.false(report.ok);
  t.true(report.problems.some((p) => /docker\.size/.test(p)));
  t.true(report.problems.some((p) => /config .* ref missing/.test(p)));
});

test('deleteImage then prune removes unused blobs but keeps shared ones and kept commits', async (t) => {
  const { store } = await tempStore(t);
  const a = await twoLayerImage('a');
  const b = await buildImage([{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=a\n' }] }, { entries: [{ type: 'file', path: 'b', content: 'b' }] }]);
  t.is(a.layers[0]!.digest, b.layers[0]!.digest, 'shared base layer');
  await storeImage(store, 'r/a:1', a);
  await storeImage(store, 'r/b:1', b);
  const kept = (await store.getImage('r/a:1'))!.layers[1]!.commit;
  await store.deleteImage('r/a:1');
  const error = await t.throwsAsync(store.deleteImage('r/a:1'));
  t.is((error as SyscontainerError).code, 'ENOTFOUND');
  const report = await store.prune({ keepCommits: new Set([kept]) });
  t.deepEqual(report.removedRefs, [blobRef(a.configDigest)]);
  t.truthy(await store.repo.resolveRef(blobRef(a.layers[0]!.digest)));
  t.truthy(await store.repo.resolveRef(blobRef(a.layers[1]!.digest)), 'held by a container');
  const again = await store.prune();
  t.deepEqual(again.removedRefs, [blobRef(a.layers[1]!.digest)]);
  t.true((await store.verifyImage('r/b:1')).ok);
  await store.repo.fsck();
});
