import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { buildLayer, whiteout, opaque, type LayerEntry } from '../../images/build/layer.js';
import { SyscontainerError } from '../../common/errors.js';
import { blobRef } from '../../store/ref-names.js';
import { descriptorOf, failingStream, sha256, tempStore, verifiedStream } from '../helpers/store-fixtures.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.store);

const entries: LayerEntry[] = [
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/hostname', content: 'box\n' },
  // no entries for usr/ or usr/lib/: a layer without parent directory entries
  { type: 'file', path: 'usr/lib/deep/lib.so', content: 'ELF', mode: 0o755 },
  { type: 'file', path: 'usr/bin/su', content: 'su', mode: 0o4755 },
  { type: 'symlink', path: 'bin', target: 'usr/bin' },
  { type: 'hardlink', path: 'usr/bin/su-again', target: 'usr/bin/su' },
  whiteout('var/gone'),
  opaque('opt'),
];

for (const compression of ['gzip', 'zstd', 'none'] as const) {
  test(`imports a ${compression} layer: ref, metadata, content`, async (t) => {
    const { store } = await tempStore(t);
    const layer = await buildLayer(entries, { compression });
    const progress: number[] = [];
    const imported = await store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes, 100), layer.diffId, (p) => progress.push(p.bytes));
    t.false(imported.skipped);
    t.is(imported.diffId, layer.diffId);
    t.is(imported.uncompressedSize, layer.tar.length);
    t.is(await store.repo.resolveRef(blobRef(layer.digest)), imported.commit);
    t.deepEqual(await store.repo.commitMetadata(imported.commit), {
      'docker.size': String(layer.size),
      'docker.uncompressed_size': String(layer.tar.length),
      'docker.uncompressed_digest': layer.diffId,
    });
    t.true(await store.hasLayer(layer.digest));
    t.is((await store.repo.readFile(imported.commit, '/usr/lib/deep/lib.so')).toString(), 'ELF');
    t.is((await store.repo.readFile(imported.commit, '/var/.wh.gone')).length, 0, 'whiteouts are kept as plain files');
    t.is((await store.repo.readFile(imported.commit, '/opt/.wh..wh..opq')).length, 0);
    t.is(progress[progress.length - 1], layer.size);
    await store.repo.fsck();
  });
}

test('re-importing a stored layer is skipped without reading the stream', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer(entries);
  const first = await store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), layer.diffId);
  const stream = verifiedStream(layer.bytes);
  const second = await store.importLayer(descriptorOf(layer), stream, layer.diffId);
  t.true(second.skipped);
  t.is(second.commit, first.commit);
  t.true(stream.destroyed);
});

async function assertNoRef(t: import('ava').ExecutionContext, store: import('../../store/image-store.js').ImageStore, digest: string) {
  t.is(await store.repo.resolveRef(blobRef(digest)), undefined);
  t.false(await store.hasLayer(digest));
  await store.repo.fsck();
}

test('a wrong diff_id fails with EINTEGRITY after the whole stream and leaves no ref', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer(entries);
  const error = await t.throwsAsync(store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), sha256('other')));
  t.is((error as SyscontainerError).code, 'EINTEGRITY');
  t.regex(error!.message, /diff_id/);
  await assertNoRef(t, store, layer.digest);
});

test('a stream failing verification leaves no ref', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer([{ type: 'file', path: 'big', content: Buffer.alloc(300_000, 3) }], { compression: 'none' });
  const error = await t.throwsAsync(store.importLayer(descriptorOf(layer), failingStream(layer.bytes, layer.digest), layer.diffId));
  t.is((error as SyscontainerError).code, 'EINTEGRITY');
  await assertNoRef(t, store, layer.digest);
});

test('a truncated gzip fails with ELAYER and leaves no ref', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer([{ type: 'file', path: 'f', content: Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251)) }]);
  const truncated = layer.bytes.subarray(0, layer.bytes.length - 100);
  const descriptor = { ...descriptorOf(layer), digest: sha256(truncated), size: truncated.length };
  const error = await t.throwsAsync(store.importLayer(descriptor, verifiedStream(truncated), layer.diffId));
  t.is((error as SyscontainerError).code, 'ELAYER');
  t.regex(error!.message, /gzip data is corrupt or truncated/);
  await assertNoRef(t, store, descriptor.digest);
});

test('a truncated zstd fails and leaves no ref', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer([{ type: 'file', path: 'f', content: Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251)) }], { compression: 'zstd' });
  const truncated = layer.bytes.subarray(0, layer.bytes.length - 50);
  const descriptor = { ...descriptorOf(layer), digest: sha256(truncated), size: truncated.length };
  const error = await t.throwsAsync(store.importLayer(descriptor, verifiedStream(truncated), layer.diffId));
  t.is((error as SyscontainerError).code, 'ELAYER');
  await assertNoRef(t, store, descriptor.digest);
});

test('a path-escaping layer is rejected, nothing is written outside, no ref', async (t) => {
  const { root, store } = await tempStore(t);
  for (const hostile of [
    [{ type: 'file', path: '../escaped', content: 'x' }],
    [{ type: 'file', path: '/abs-escaped', content: 'x' }],
    [{ type: 'file', path: 'a', content: 'x' }, { type: 'hardlink', path: 'b', target: '../../etc/shadow' }],
  ] as LayerEntry[][]) {
    const layer = await buildLayer(hostile);
    const error = await t.throwsAsync(store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), layer.diffId));
    t.is((error as SyscontainerError).code, 'ELAYER');
    await assertNoRef(t, store, layer.digest);
  }
  await t.throwsAsync(access(join(root, '..', 'escaped')));
  await t.throwsAsync(access(join(root, '.storage', 'escaped')));
  await t.throwsAsync(access('/abs-escaped'));
});

test('the uncompressed size bound gives ELIMIT and no ref', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer([{ type: 'file', path: 'zeros', content: Buffer.alloc(2_000_000) }]);
  t.true(layer.size < 10_000, 'a small blob that inflates');
  const error = await t.throwsAsync(store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), layer.diffId, undefined, { maxUncompressedBytes: 1_000_000 }));
  t.is((error as SyscontainerError).code, 'ELIMIT');
  await assertNoRef(t, store, layer.digest);
});

test('device nodes and FIFOs are dropped and reported; the layer imports', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer([
    { type: 'file', path: 'dev/keep', content: 'k' },
    { type: 'char-device', path: 'dev/null', major: 1, minor: 3 },
    { type: 'fifo', path: 'run/pipe' },
  ]);
  const imported = await store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), layer.diffId);
  t.deepEqual(imported.dropped.map((d) => d.path), ['dev/null', 'run/pipe']);
  t.deepEqual((await store.repo.listTree(imported.commit)).map((e) => e.path), ['/dev', '/dev/keep']);
});

test('an unsupported media type is EMANIFEST', async (t) => {
  const { store } = await tempStore(t);
  const layer = await buildLayer(entries);
  const error = await t.throwsAsync(store.importLayer({ ...descriptorOf(layer), mediaType: 'application/x-foo' }, verifiedStream(layer.bytes), layer.diffId));
  t.is((error as SyscontainerError).code, 'EMANIFEST');
});
