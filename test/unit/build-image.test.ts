// The image builder: reproducible digests, documents that pass our own validators, media
// types per format, indexes; and the two shipped image definitions (etcd, hello).
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { execa } from 'execa';
import { buildImage, buildIndex, type BuiltImage, type ImageDefinition } from '../../images/build/image.js';
import { etcdDefinition } from '../../images/etcd/definition.js';
import { configTemplate, manifestJson, serviceTemplate, tmpfilesTemplate } from '../../images/etcd/exports.js';
import { helloDefinition } from '../../images/hello/definition.js';
import { SyscontainerError } from '../../common/errors.js';
import { imageConfigSchema, indexSchema, manifestSchema, MediaType, parseJson } from '../../store/oci/oci-types.js';
import { buildFixture, buildMultiPlatformFixture, fixture, fixtureNames } from '../helpers/fixtures.js';
import { testNeeding } from '../helpers/host-requirements.js';

const etcdBinaries = { tools: ['/usr/bin/etcd', '/usr/bin/etcdctl'] };

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function uncompressed(image: BuiltImage, i: number): Promise<Buffer> {
  const layer = image.layers[i]!;
  switch (layer.descriptor.mediaType) {
    case MediaType.ociLayer:
      return layer.bytes;
    case MediaType.ociLayerZstd:
      return Buffer.from((await execa('zstd', ['-d', '-c', '-q'], { input: layer.bytes, encoding: 'buffer', stripFinalNewline: false })).stdout);
    default:
      return gunzipSync(layer.bytes);
  }
}

/** Everything a consumer checks: schemas, and every digest and size against the bytes. */
async function assertConsistent(t: import('ava').ExecutionContext, image: BuiltImage): Promise<void> {
  const manifest = parseJson(manifestSchema, image.manifestBytes, 'manifest');
  const config = parseJson(imageConfigSchema, image.configBytes, 'config');
  t.is(sha256(image.manifestBytes), image.manifestDigest);
  t.is(manifest.config.digest, sha256(image.configBytes));
  t.is(manifest.config.size, image.configBytes.length);
  t.is(manifest.layers.length, config.rootfs.diff_ids.length);
  for (const [i, descriptor] of manifest.layers.entries()) {
    const layer = image.layers[i]!;
    t.is(descriptor.digest, sha256(layer.bytes));
    t.is(descriptor.size, layer.bytes.length);
    t.is(config.rootfs.diff_ids[i], sha256(await uncompressed(image, i)), `diff_id of layer ${i}`);
  }
}

for (const name of fixtureNames) {
  test(`fixture ${name}: building twice gives the same digests, and the documents validate`, async (t) => {
    const [a, b] = [await buildFixture(name), await buildFixture(name)];
    t.is(a.manifestDigest, b.manifestDigest);
    t.deepEqual(
      a.layers.map((l) => l.descriptor.digest),
      b.layers.map((l) => l.descriptor.digest),
    );
    await assertConsistent(t, a);
  });
}

test('a changed file gives a different layer and manifest digest', async (t) => {
  const original = await buildFixture('layered');
  const changed = fixture('layered');
  changed.definition.layers[2] = { entries: [{ type: 'file', path: 'opt/app/data', content: 'changed\n' }] };
  const built = await buildImage(changed.definition);
  t.not(built.manifestDigest, original.manifestDigest);
  t.is(built.layers[0]!.descriptor.digest, original.layers[0]!.descriptor.digest);
  t.not(built.layers[2]!.descriptor.digest, original.layers[2]!.descriptor.digest);
});

test('key order of labels, volumes and annotations does not change the digest', async (t) => {
  const base: ImageDefinition = { layers: [{ entries: [{ type: 'file', path: 'a', content: 'a' }] }] };
  const one = await buildImage({ ...base, config: { Labels: { a: '1', b: '2' }, Volumes: { '/x': {}, '/y': {} } }, annotations: { p: '1', q: '2' } });
  const two = await buildImage({ ...base, config: { Labels: { b: '2', a: '1' }, Volumes: { '/y': {}, '/x': {} } }, annotations: { q: '2', p: '1' } });
  t.is(one.manifestDigest, two.manifestDigest);
});

testNeeding({ tools: ['zstd'] })('media types follow the format and the compression', async (t) => {
  const docker = await buildFixture('docker');
  t.is(docker.manifest.mediaType, MediaType.dockerManifest);
  t.is(docker.manifest.config.mediaType, MediaType.dockerConfig);
  t.true(docker.manifest.layers.every((l) => l.mediaType === MediaType.dockerLayerGzip));

  const zstd = await buildFixture('zstd');
  t.is(zstd.manifest.mediaType, MediaType.ociManifest);
  t.is(zstd.manifest.config.mediaType, MediaType.ociConfig);
  t.deepEqual(zstd.manifest.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayerZstd]);
  t.is(zstd.layers[1]!.bytes.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');

  const plain = await buildFixture('uncompressed');
  t.deepEqual(plain.manifest.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayer]);
  t.is(plain.layers[1]!.bytes.subarray(257, 262).toString(), 'ustar', 'a bare tar');
});

test('docker format refuses non-gzip layers', async (t) => {
  const error = await t.throwsAsync(buildImage({ format: 'docker', layers: [{ compression: 'zstd', entries: [] }] }));
  t.true(error instanceof SyscontainerError);
  t.is((error as SyscontainerError).code, 'EINVAL');
});

test('the image config carries the definition: platform, Entrypoint, Cmd, Env, history', async (t) => {
  const image = await buildFixture('docker');
  t.is(image.config.architecture, 'amd64');
  t.is(image.config.os, 'linux');
  t.deepEqual(image.config.config?.Entrypoint, ['/bin/hello']);
  t.deepEqual(image.config.config?.Env, ['FIXTURE=docker']);
  t.is(image.config.history?.length, 2);
  t.is(image.config.created, '1970-01-01T00:00:00Z');
});

test('an index lists each image with its platform, and is reproducible', async (t) => {
  for (const format of ['oci', 'docker'] as const) {
    const [a, b] = [await buildMultiPlatformFixture(format), await buildMultiPlatformFixture(format)];
    t.is(a.indexDigest, b.indexDigest);
    const index = parseJson(indexSchema, a.indexBytes, 'index');
    t.is(index.mediaType, format === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList);
    t.deepEqual(
      index.manifests.map((m) => m.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux', variant: 'v8' },
      ],
    );
    t.deepEqual(
      index.manifests.map((m) => m.digest),
      a.images.map((i) => i.manifestDigest),
    );
    t.not(a.images[0]!.layers[0]!.descriptor.digest, a.images[1]!.layers[0]!.descriptor.digest, 'content differs per platform');
    t.is(a.images[1]!.config.architecture, 'arm64');
    t.is(a.images[1]!.config.variant, 'v8');
  }
});

test('an index refuses two images of one platform, or images of the other format', async (t) => {
  const oci = await buildFixture('layered');
  t.throws(() => buildIndex([oci, oci]), { message: /two images for platform linux\/amd64/ });
  const docker = await buildFixture('docker');
  t.throws(() => buildIndex([docker], 'oci'), { message: /not application\/vnd\.oci\.image\.manifest/ });
});

// The shipped images. They read host binaries (Debian etcd-server, etcd-client, busybox-static).

testNeeding({ tools: ['/bin/busybox'] })('hello: reproducible, config from the definition, no /exports', async (t) => {
  const [a, b] = [await buildImage(await helloDefinition()), await buildImage(await helloDefinition())];
  t.is(a.manifestDigest, b.manifestDigest);
  await assertConsistent(t, a);
  t.deepEqual(a.config.config?.Entrypoint?.slice(0, 2), ['/bin/busybox', 'httpd']);
  t.is(a.config.config?.WorkingDir, '/www');
  t.deepEqual(Object.keys(a.config.config?.Volumes ?? {}), ['/data']);
  const names = (await Promise.all(a.layers.map((_, i) => tarNames(a, i)))).flat();
  t.true(names.includes('bin/busybox'));
  t.true(names.includes('www/index.html'));
  t.false(names.some((n) => n.startsWith('exports')));
});

testNeeding(etcdBinaries)('etcd: reproducible; binaries, their libraries and /exports are in the image', async (t) => {
  const [a, b] = [await buildImage(await etcdDefinition()), await buildImage(await etcdDefinition())];
  t.is(a.manifestDigest, b.manifestDigest);
  await assertConsistent(t, a);
  const names = (await Promise.all(a.layers.map((_, i) => tarNames(a, i)))).flat();
  for (const wanted of ['usr/bin/etcd', 'usr/bin/etcdctl', 'var/lib/etcd/', 'tmp/', 'etc/passwd', 'exports/config.json.template', 'exports/manifest.json', 'exports/service.template', 'exports/tmpfiles.template']) {
    t.true(names.includes(wanted), wanted);
  }
  const libs = (await execa('ldd', ['/usr/bin/etcd'], { reject: false })).stdout;
  for (const match of libs.matchAll(/(\/\S+) \(0x/g)) t.true(names.includes(match[1]!.slice(1)), `library ${match[1]}`);
});

async function tarNames(image: BuiltImage, i: number): Promise<string[]> {
  const tar = await uncompressed(image, i);
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    names.push(prefix ? `${prefix}/${name}` : name);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

/** Atomic's rule: `$VAR` / `${VAR}`, `$$` a literal dollar; values inserted raw. */
function render(template: string, values: Record<string, string>): string {
  return template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_all, dollar: string, braced?: string, bare?: string) => {
    if (dollar === '$') return '$';
    const name = (braced ?? bare)!;
    const value = values[name];
    if (value === undefined) throw new Error(`template variable ${name} is not set`);
    return value;
  });
}

test('etcd /exports: every variable is provided, and config.json renders into a valid OCI runtime config', (t) => {
  const installer = {
    NAME: 'etcd',
    DESTDIR: '/var/lib/containers/atomic/etcd.0',
    EXEC_START: '/usr/bin/runc run etcd',
    EXEC_STOP: '/usr/bin/runc kill etcd TERM',
    EXEC_STARTPRE: '',
    EXEC_STOPPOST: '',
    HOST_UID: '0',
    HOST_GID: '0',
    RUN_DIRECTORY: '/run',
    STATE_DIRECTORY: '/var/lib',
    CONF_DIRECTORY: '/etc',
  };
  const values = { ...manifestJson.defaultValues, ...installer };
  const config = JSON.parse(render(JSON.stringify(configTemplate), values)) as typeof configTemplate;
  t.deepEqual(config.root, { path: 'rootfs', readonly: true });
  t.deepEqual(config.process.args, ['/usr/bin/etcd']);
  t.true(config.process.env.includes('ETCDCTL_API=3'));
  t.true(config.process.env.includes('ETCDCTL_ENDPOINTS=http://127.0.0.1:2379'));
  t.true(config.process.env.includes('ETCD_DATA_DIR=/var/lib/etcd'));
  const types = config.linux.namespaces.map((n) => n.type).sort();
  t.deepEqual(types, ['ipc', 'mount', 'pid', 'uts'], 'host network: no network namespace');
  const data = config.mounts.find((m) => m.destination === '/var/lib/etcd');
  t.is(data?.source, '/var/lib/etcd', 'data in $STATE_DIRECTORY/$NAME');
  for (const dest of ['/proc', '/dev', '/sys', '/tmp']) t.truthy(config.mounts.find((m) => m.destination === dest), dest);

  const unit = render(serviceTemplate, values);
  t.regex(unit, /^ExecStart=\/usr\/bin\/runc run etcd$/m);
  t.regex(unit, /^WorkingDirectory=\/var\/lib\/containers\/atomic\/etcd\.0$/m);
  t.is(render(tmpfilesTemplate, values), 'd /var/lib/etcd 0700 0 0 - -\n');
});
