// OCI image layouts: what we write reads back through OciLayoutSource (dir and archive),
// skopeo reads ours and we read skopeo's, and tampered or hostile content is refused.
import { createHash } from 'node:crypto';
import { access, readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import test from 'ava';
import { execa } from 'execa';
import { buildImage, type BuiltImage, type BuiltIndex } from '../../images/build/image.js';
import { buildLayer } from '../../images/build/layer.js';
import { layoutBlobPath, OciLayoutSource, parseOciLayoutSpec, refNameAnnotation, writeOciArchive, writeOciLayout } from '../../images/build/oci-layout.js';
import { IntegrityError, SyscontainerError } from '../../common/errors.js';
import { MediaType } from '../../store/oci/oci-types.js';
import { tempDir } from '../helpers/cli.js';
import { buildFixture, buildMultiPlatformFixture, fixtureNames, multiPlatformTags, writeFixtureLayout } from '../helpers/fixtures.js';
import { testNeeding } from '../helpers/host-requirements.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function open(t: import('ava').ExecutionContext, reference: string): Promise<OciLayoutSource> {
  const source = await OciLayoutSource.open(reference);
  t.teardown(() => source.close());
  return source;
}

/** Reads the image back through the source and compares every byte with what was built. */
async function assertReadsBack(t: import('ava').ExecutionContext, source: OciLayoutSource, reference: string, built: BuiltImage | BuiltIndex): Promise<void> {
  const top = await source.fetchManifest(reference);
  const images = 'images' in built ? built.images : [built];
  if ('images' in built) {
    t.is(top.digest, built.indexDigest);
    t.is(top.mediaType, built.indexMediaType);
    t.true(top.bytes.equals(built.indexBytes));
  }
  for (const image of images) {
    const manifest = 'images' in built ? await source.fetchManifest(image.manifestDigest) : top;
    t.is(manifest.digest, image.manifestDigest);
    t.is(manifest.mediaType, image.manifestMediaType);
    t.true(manifest.bytes.equals(image.manifestBytes));
    t.true((await collect(await source.openBlob(image.manifest.config))).equals(image.configBytes));
    for (const layer of image.layers) t.true((await collect(await source.openBlob(layer.descriptor))).equals(layer.bytes));
  }
}

test('every fixture written to a layout reads back byte for byte, by tag', async (t) => {
  const dir = await tempDir(t);
  const built = await writeFixtureLayout(dir);
  const source = await open(t, `oci:${dir}`);
  t.is((await source.index()).manifests.length, fixtureNames.length + 2);
  for (const [tag, image] of built) await assertReadsBack(t, source, tag, image);
});

test('index.json names entries with the ref.name annotation; blobs live under blobs/sha256', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('layered');
  await writeOciLayout(dir, [{ image, tag: 'v1' }]);
  t.deepEqual(JSON.parse(await readFile(path.join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
  t.deepEqual(index.manifests, [{ mediaType: MediaType.ociManifest, digest: image.manifestDigest, size: image.manifestBytes.length, annotations: { [refNameAnnotation]: 'v1' } }]);
  const blobs = (await readdir(path.join(dir, 'blobs', 'sha256'))).sort();
  const expected = [image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.descriptor.digest)].map((d) => d.slice(7)).sort();
  t.deepEqual(blobs, expected);
});

test('writing again is idempotent; a tag written again moves, other tags stay', async (t) => {
  const dir = await tempDir(t);
  const a = await buildFixture('layered');
  const b = await buildFixture('links');
  await writeOciLayout(dir, [{ image: a, tag: 'one' }, { image: a, tag: 'two' }]);
  const first = await readFile(path.join(dir, 'index.json'));
  await writeOciLayout(dir, [{ image: a, tag: 'one' }, { image: a, tag: 'two' }]);
  t.true((await readFile(path.join(dir, 'index.json'))).equals(first));
  const index = await writeOciLayout(dir, [{ image: b, tag: 'two' }]);
  t.deepEqual(
    index.manifests.map((m) => [m.annotations?.[refNameAnnotation], m.digest]),
    [
      ['one', a.manifestDigest],
      ['two', b.manifestDigest],
    ],
  );
  t.is((await (await open(t, `oci:${dir}:two`)).fetchManifest('')).digest, b.manifestDigest);
});

test('a directory that is neither empty nor a layout is not written into', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'precious'), 'x');
  const error = await t.throwsAsync(writeOciLayout(dir, [{ image: await buildFixture('layered'), tag: 'x' }]));
  t.is((error as SyscontainerError).code, 'EEXIST');
});

test('tag selection: the only image without a tag; unknown tag, or no tag among several, are errors', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('layered');
  await writeOciLayout(dir, [{ image, tag: 'only' }]);
  t.is((await (await open(t, `oci:${dir}`)).fetchManifest('')).digest, image.manifestDigest);
  const missing = await t.throwsAsync((await open(t, `oci:${dir}:nope`)).fetchManifest(''));
  t.is((missing as SyscontainerError).code, 'ENOTFOUND');
  t.regex(missing!.message, /no image tagged nope/);

  await writeOciLayout(dir, [{ image: await buildFixture('links'), tag: 'second' }]);
  const ambiguous = await t.throwsAsync((await open(t, `oci:${dir}`)).fetchManifest(''));
  t.is((ambiguous as SyscontainerError).code, 'EINVAL');
  t.regex((ambiguous as SyscontainerError).hint ?? '', /only, second/);

  const notLayout = await t.throwsAsync(OciLayoutSource.open(`oci:${path.join(dir, 'blobs')}`));
  t.is((notLayout as SyscontainerError).code, 'ENOTFOUND');
});

test('parseOciLayoutSpec: path ends at the first colon, the rest is the tag', (t) => {
  t.deepEqual(parseOciLayoutSpec('oci:/tmp/x'), { transport: 'oci', path: '/tmp/x', tag: undefined });
  t.deepEqual(parseOciLayoutSpec('oci:/tmp/x:v1'), { transport: 'oci', path: '/tmp/x', tag: 'v1' });
  t.deepEqual(parseOciLayoutSpec('oci-archive:a.tar:docker.io/library/etcd:3'), { transport: 'oci-archive', path: 'a.tar', tag: 'docker.io/library/etcd:3' });
  t.throws(() => parseOciLayoutSpec('oci:'), { message: /no path/ });
  t.throws(() => parseOciLayoutSpec('docker://x'), { message: /not an oci/ });
  t.throws(() => parseOciLayoutSpec('oci:/x:bad tag'), { message: /bad tag/ });
});

test('a tampered layer blob makes the stream fail with IntegrityError, not end', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('layered');
  await writeOciLayout(dir, [{ image, tag: 'x' }]);
  const layer = image.layers[1]!.descriptor;
  const file = layoutBlobPath(dir, layer.digest);
  const bytes = await readFile(file);
  const at = bytes.length - 5;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at); // same size, different content
  await writeFile(file, bytes);
  const source = await open(t, `oci:${dir}:x`);
  const error = await t.throwsAsync(collect(await source.openBlob(layer)));
  t.true(error instanceof IntegrityError);
  t.regex(error!.message, new RegExp(`blob ${layer.digest} digest mismatch`));

  await truncate(file, 10);
  const short = await t.throwsAsync(source.openBlob(layer));
  t.true(short instanceof IntegrityError);
  t.regex(short!.message, /size mismatch: expected \d+, got 10/);
});

test('a tampered manifest is refused with IntegrityError', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('layered');
  await writeOciLayout(dir, [{ image, tag: 'x' }]);
  const file = layoutBlobPath(dir, image.manifestDigest);
  await writeFile(file, (await readFile(file, 'utf8')).replace('"schemaVersion":2', '"schemaVersion":2 '));
  const error = await t.throwsAsync((await open(t, `oci:${dir}:x`)).fetchManifest('x'));
  t.true(error instanceof IntegrityError);
});

// Serial: it watches the temp dir for the archive's extraction.
test.serial('an OCI archive reads back like the directory, and close() removes its extraction', async (t) => {
  const dir = await tempDir(t);
  const archive = path.join(dir, 'images.tar');
  const index = await buildMultiPlatformFixture();
  const image = await buildFixture('zstd');
  await writeOciArchive(archive, [
    { image: index, tag: 'multi' },
    { image, tag: 'zstd' },
  ]);
  const before = new Set(await readdir(tmpdir()));
  const source = await OciLayoutSource.open(`oci-archive:${archive}:multi`);
  const created = (await readdir(tmpdir())).filter((n) => !before.has(n) && n.startsWith('syscontainer-oci-archive-'));
  await assertReadsBack(t, source, '', index);
  await assertReadsBack(t, source, 'zstd', image);
  await source.close();
  t.is(created.length, 1);
  await t.throwsAsync(access(path.join(tmpdir(), created[0]!)), { code: 'ENOENT' });
});

test('a hostile archive: escaping names and links are not extracted, the layout is incomplete', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('layered');
  const layer = image.layers[0]!;
  const hex = layer.descriptor.digest.slice(7);
  const manifestHex = image.manifestDigest.slice(7);
  const index = { schemaVersion: 2, manifests: [{ ...image.manifestDescriptor, annotations: { [refNameAnnotation]: 'x' } }] };
  const tar = await buildLayer(
    [
      { type: 'file', path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
      { type: 'file', path: 'index.json', content: JSON.stringify(index) },
      { type: 'file', path: `blobs/sha256/${manifestHex}`, content: image.manifestBytes },
      { type: 'file', path: `blobs/sha256/${image.configDigest.slice(7)}`, content: image.configBytes },
      { type: 'file', path: `../escaped-${hex}`, content: 'outside' },
      { type: 'symlink', path: `blobs/sha256/${hex}`, target: '/etc/passwd' },
    ],
    { compression: 'none' },
  );
  const archive = path.join(dir, 'hostile.tar');
  await writeFile(archive, tar.bytes);
  const source = await open(t, `oci-archive:${archive}:x`);
  t.is((await source.fetchManifest('')).digest, image.manifestDigest);
  const error = await t.throwsAsync(source.openBlob(layer.descriptor));
  t.is((error as SyscontainerError).code, 'ENOTFOUND');
  await t.throwsAsync(access(path.join(tmpdir(), `escaped-${hex}`)), { code: 'ENOENT' });
});

testNeeding({ tools: ['skopeo'] })('skopeo reads the layouts we write, and we read what skopeo writes', async (t) => {
  const dir = await tempDir(t);
  const ours = path.join(dir, 'ours');
  const theirs = path.join(dir, 'theirs');
  const image = await buildFixture('whiteouts');
  const index = await buildMultiPlatformFixture();
  await writeOciLayout(ours, [
    { image, tag: 'whiteouts' },
    { image: index, tag: multiPlatformTags.oci },
  ]);
  const inspected = JSON.parse((await execa('skopeo', ['inspect', '--raw', `oci:${ours}:whiteouts`])).stdout);
  t.deepEqual(inspected, image.manifest);
  await execa('skopeo', ['copy', '--quiet', `oci:${ours}:whiteouts`, `oci:${theirs}:copied`]);
  await execa('skopeo', ['copy', '--quiet', '--all', `oci:${ours}:${multiPlatformTags.oci}`, `oci:${theirs}:multi`]);
  const source = await open(t, `oci:${theirs}:copied`);
  await assertReadsBack(t, source, '', image);
  await assertReadsBack(t, source, 'multi', index);
});

test('a manifest fetched by a digest no entry names is still verified against that digest', async (t) => {
  const dir = await tempDir(t);
  const index = await buildMultiPlatformFixture();
  await writeOciLayout(dir, [{ image: index, tag: 'm' }]);
  const child = index.images[1]!;
  const source = await open(t, `oci:${dir}`);
  const fetched = await source.fetchManifest(child.manifestDigest);
  t.is(fetched.mediaType, MediaType.ociManifest, 'media type from the document');
  const digest = `sha256:${createHash('sha256').update(fetched.bytes).digest('hex')}`;
  t.is(digest, child.manifestDigest);
  const other = await buildImage({ layers: [] });
  const missing = await t.throwsAsync(source.fetchManifest(other.manifestDigest));
  t.is((missing as SyscontainerError).code, 'ENOTFOUND');
});

// Serial: it watches the temp dir for a leftover extraction.
test.serial('a truncated archive fails with ELAYER and leaves no extraction behind', async (t) => {
  const dir = await tempDir(t);
  const archive = path.join(dir, 'images.tar');
  await writeOciArchive(archive, [{ image: await buildFixture('layered'), tag: 'x' }]);
  const bytes = await readFile(archive);
  await writeFile(archive, bytes.subarray(0, Math.floor(bytes.length / 2) + 100));
  const before = new Set(await readdir(tmpdir()));
  const error = await t.throwsAsync(OciLayoutSource.open(`oci-archive:${archive}:x`));
  t.is((error as SyscontainerError).code, 'ELAYER');
  t.deepEqual((await readdir(tmpdir())).filter((n) => !before.has(n) && n.startsWith('syscontainer-oci-archive-')), []);
});
