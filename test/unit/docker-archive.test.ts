// `docker save` tars as a source (docker-archive:FILE[:NAME:TAG], Atomic's dockertar:/FILE):
// the references, the image picked and named by RepoTags, every blob verified as it streams,
// and hostile archives refused or their odd entries skipped.
import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import tar from 'tar-stream';
import { IntegrityError } from '../../common/errors.js';
import { DockerArchiveSource, parseDockerArchiveSpec } from '../../store/sources/docker-archive-source.js';
import type { BuiltImage } from '../../images/build/image.js';
import { tempDir } from '../helpers/cli.js';
import { buildFixture } from '../helpers/fixtures.js';

interface Entry {
  name: string;
  content?: Buffer | string;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
}

async function writeTar(file: string, entries: Entry[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const entry of entries) {
    if (entry.type === 'symlink' || entry.type === 'directory') pack.entry({ name: entry.name, type: entry.type, linkname: entry.linkname });
    else pack.entry({ name: entry.name }, entry.content ?? '');
  }
  pack.finalize();
  await done;
}

/** The members `docker save` writes for `image`, under `tags`. */
function saved(image: BuiltImage, tags: string[] | null, prefix = ''): { manifest: object; entries: Entry[] } {
  const hex = (digest: string) => digest.slice('sha256:'.length);
  const config = `${prefix}${hex(image.configDigest)}.json`;
  const layers = image.layers.map((layer) => `${prefix}${hex(layer.diffId)}/layer.tar`);
  return {
    manifest: { Config: config, RepoTags: tags, Layers: layers },
    entries: [{ name: config, content: image.configBytes }, ...image.layers.map((layer, i) => ({ name: layers[i]!, content: layer.bytes }))],
  };
}

async function archiveOf(dir: string, images: Array<{ manifest: object; entries: Entry[] }>, extra: Entry[] = []): Promise<string> {
  const file = path.join(dir, 'image.tar');
  await writeTar(file, [...images.flatMap((i) => i.entries), ...extra, { name: 'manifest.json', content: JSON.stringify(images.map((i) => i.manifest)) }]);
  return file;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function open(t: import('ava').ExecutionContext, reference: string): Promise<DockerArchiveSource> {
  const source = await DockerArchiveSource.open(reference);
  t.teardown(() => source.close());
  return source;
}

test('references: dockertar:/ takes an absolute path (dockertar://tmp/x is /tmp/x), docker-archive: an optional NAME:TAG', (t) => {
  t.deepEqual(parseDockerArchiveSpec('dockertar://tmp/x.tar'), { path: '/tmp/x.tar', name: undefined });
  t.deepEqual(parseDockerArchiveSpec('dockertar:/tmp/x.tar'), { path: '/tmp/x.tar', name: undefined });
  t.deepEqual(parseDockerArchiveSpec('docker-archive:/tmp/x.tar'), { path: '/tmp/x.tar', name: undefined });
  t.deepEqual(parseDockerArchiveSpec('docker-archive:/tmp/x.tar:busybox:1'), { path: '/tmp/x.tar', name: 'busybox:1' });
  t.deepEqual(parseDockerArchiveSpec('docker-archive:/tmp/x.tar:quay.io/a/b'), { path: '/tmp/x.tar', name: 'quay.io/a/b:latest' });
  t.throws(() => parseDockerArchiveSpec('dockertar:'), { message: /no path given/ });
  t.throws(() => parseDockerArchiveSpec('docker-archive:/tmp/x.tar:bad name'), { message: /bad image name/ });
});

test('an archive reads back as the image it holds, named by its RepoTags; blobs are those built', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('whiteouts');
  const file = await archiveOf(dir, [saved(image, ['atomic-test-system:latest'])]);
  const source = await open(t, `dockertar:/${file}`);
  t.is(source.imageName, 'atomic-test-system:latest');
  const manifest = JSON.parse((await source.fetchManifest('')).bytes.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  t.is(manifest.config.digest, image.configDigest);
  t.deepEqual(manifest.layers.map((l) => l.digest), image.layers.map((l) => l.descriptor.digest));
  const config = await collect(await source.openBlob({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.configDigest, size: image.configBytes.length }));
  t.true(config.equals(image.configBytes));
  const layer = image.layers[0]!;
  t.true((await collect(await source.openBlob(layer.descriptor))).equals(layer.bytes));
  // A descriptor whose size lies is caught while streaming.
  await t.throwsAsync(collect(await source.openBlob({ ...layer.descriptor, size: layer.descriptor.size - 1 })), { instanceOf: IntegrityError });
});

test('without RepoTags the file name names it; of several images one is picked by NAME:TAG, else the error lists them', async (t) => {
  const dir = await tempDir(t);
  const one = await buildFixture('whiteouts');
  const two = await buildFixture('links');
  const untagged = await open(t, `docker-archive:${await archiveOf(dir, [saved(one, null)])}`);
  t.is(untagged.imageName, 'image:latest');
  const file = await archiveOf(dir, [saved(one, ['a/one:1']), saved(two, ['two:2'])]);
  await t.throwsAsync(DockerArchiveSource.open(`docker-archive:${file}`), { message: /holds 2 images; name one/ });
  const picked = await open(t, `docker-archive:${file}:two:2`);
  t.is(JSON.parse((await picked.fetchManifest('')).bytes.toString('utf8')).config.digest, two.configDigest);
  await t.throwsAsync(DockerArchiveSource.open(`docker-archive:${file}:three:3`), { message: /no image three:3 in the archive/ });
});

test.serial('hostile archives: names outside the archive are refused, links skipped, a repeated member refused; nothing is left behind', async (t) => {
  const dir = await tempDir(t);
  const image = await buildFixture('whiteouts');
  const before = (await readdir(tmpdir())).filter((e) => e.startsWith('syscontainer-docker-archive-')).length;
  const escaping = saved(image, ['x:1']);
  (escaping.manifest as { Config: string }).Config = '../../etc/passwd';
  await t.throwsAsync(DockerArchiveSource.open(`docker-archive:${await archiveOf(dir, [escaping])}`), { message: /names the config "\.\.\/\.\.\/etc\/passwd", not a plain path/ });
  // A symlink member named like a layer is not followed: the layer is missing.
  const linked = saved(image, ['x:1']);
  const layerName = (linked.manifest as { Layers: string[] }).Layers[0]!;
  linked.entries = linked.entries.filter((e) => e.name !== layerName);
  await t.throwsAsync(DockerArchiveSource.open(`docker-archive:${await archiveOf(dir, [linked], [{ name: layerName, type: 'symlink', linkname: '/etc/passwd' }])}`), {
    message: /is not in the archive/,
  });
  const repeated = saved(image, ['x:1']);
  await t.throwsAsync(DockerArchiveSource.open(`docker-archive:${await archiveOf(dir, [repeated], [repeated.entries[0]!])}`));
  await t.throwsAsync(DockerArchiveSource.open(`docker-archive:${path.join(dir, 'missing.tar')}`), { message: /archive not found/ });
  t.is((await readdir(tmpdir())).filter((e) => e.startsWith('syscontainer-docker-archive-')).length, before, 'extractions removed');
});
