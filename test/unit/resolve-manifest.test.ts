// resolveImage over an in-memory ImageSource (it must need nothing else) and over the
// registry source for what the wire adds (Content-Type, malformed bodies).
import { Readable } from 'node:stream';
import test from 'ava';
import { IntegrityError, SyscontainerError } from '../../common/errors.js';
import type { FetchedManifest, ImageSource } from '../../store/sources/image-source.js';
import type { Descriptor } from '../../store/oci/oci-types.js';
import { parsePlatform } from '../../store/oci/platform.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { resolveImage } from '../../store/pull/resolve-manifest.js';
import { verifiedBlobStream } from '../../store/content/verified-blob.js';
import { fastRetry, sha256, startFakeServer, tinyImage, type TinyImage } from '../helpers/fake-registry.js';

/** An ImageSource from maps: what an OCI layout source would look like. */
class MemorySource implements ImageSource {
  readonly description = 'memory/test:latest';
  readonly fetched: string[] = [];
  constructor(
    readonly manifests: Map<string, { bytes: Buffer; mediaType: string }>,
    readonly blobs: Map<string, Buffer>,
  ) {}
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    this.fetched.push(reference);
    const doc = this.manifests.get(reference);
    if (!doc) throw new SyscontainerError('ENOTFOUND', `no manifest ${reference}`);
    return { bytes: doc.bytes, mediaType: doc.mediaType, digest: sha256(doc.bytes) };
  }
  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const bytes = this.blobs.get(descriptor.digest);
    if (!bytes) throw new SyscontainerError('ENOTFOUND', `no blob ${descriptor.digest}`);
    return verifiedBlobStream(Readable.from([bytes]), descriptor, `blob ${descriptor.digest}`);
  }
}

const ociIndex = 'application/vnd.oci.image.index.v1+json';

function multiPlatform(): { source: MemorySource; images: Record<string, TinyImage>; indexDigest: string } {
  const images: Record<string, TinyImage> = {
    amd64: tinyImage({ architecture: 'amd64' }),
    arm64: tinyImage({ architecture: 'arm64', variant: 'v8' }),
    armv7: tinyImage({ architecture: 'arm', variant: 'v7' }),
    armv6: tinyImage({ architecture: 'arm', variant: 'v6' }),
  };
  const entry = (img: TinyImage, architecture: string, variant?: string) => ({
    mediaType: img.manifestMediaType,
    digest: img.manifestDigest,
    size: img.manifest.length,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const attestation = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('att'), size: 3, platform: { os: 'unknown', architecture: 'unknown' } };
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: ociIndex,
      manifests: [entry(images.amd64!, 'amd64'), entry(images.armv6!, 'arm', 'v6'), entry(images.armv7!, 'arm', 'v7'), entry(images.arm64!, 'arm64', 'v8'), attestation],
    }),
  );
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>([['latest', { bytes: index, mediaType: ociIndex }]]);
  const blobs = new Map<string, Buffer>();
  for (const img of Object.values(images)) {
    manifests.set(img.manifestDigest, { bytes: img.manifest, mediaType: img.manifestMediaType });
    for (const [d, b] of img.blobs) blobs.set(d, b);
  }
  return { source: new MemorySource(manifests, blobs), images, indexDigest: sha256(index) };
}

test('an index resolves to the entry for the requested platform', async (t) => {
  const { source, images, indexDigest } = multiPlatform();
  for (const [platform, key] of [
    ['linux/arm64', 'arm64'],
    ['linux/arm64/v8', 'arm64'],
    ['linux/arm/v7', 'armv7'],
    ['linux/arm', 'armv7'],
    ['linux/arm/v6', 'armv6'],
    ['linux/amd64', 'amd64'],
  ] as const) {
    const resolved = await resolveImage(source, 'latest', parsePlatform(platform));
    const img = images[key]!;
    t.is(resolved.manifestDigest, img.manifestDigest, platform);
    t.is(resolved.indexDigest, indexDigest);
    t.true(resolved.configBytes.equals(img.config));
    t.is(resolved.configDigest, img.configDigest);
    t.is(resolved.config.architecture, key.startsWith('arm') && key !== 'arm64' ? 'arm' : key);
    t.is(resolved.manifest.layers[0]!.digest, img.layerDigest);
  }
});

test('no entry for the platform lists the available ones', async (t) => {
  const { source } = multiPlatform();
  const error = await t.throwsAsync(resolveImage(source, 'latest', parsePlatform('linux/s390x')));
  t.is((error as SyscontainerError).code, 'ENOTFOUND');
  t.is(error!.message, 'image memory/test:latest: no manifest for platform linux/s390x (available: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8)');
});

test('a plain manifest resolves without an index and keeps the exact bytes', async (t) => {
  const img = tinyImage();
  const source = new MemorySource(new Map([['1.0', { bytes: img.manifest, mediaType: img.manifestMediaType }]]), img.blobs);
  const resolved = await resolveImage(source, '1.0', parsePlatform('linux/amd64'));
  t.true(resolved.manifestBytes.equals(img.manifest));
  t.is(resolved.manifestMediaType, img.manifestMediaType);
  t.is(resolved.indexDigest, undefined);
  t.deepEqual(resolved.config.config?.Cmd, ['/bin/sh']);
});

test('a Docker schema2 manifest is accepted', async (t) => {
  const img = tinyImage({ manifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json', layerMediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' });
  const source = new MemorySource(new Map([['latest', { bytes: img.manifest, mediaType: img.manifestMediaType }]]), img.blobs);
  t.is((await resolveImage(source, 'latest')).manifestDigest, img.manifestDigest);
});

test('unknown layer and manifest media types are EMANIFEST naming the type', async (t) => {
  const img = tinyImage({ layerMediaType: 'application/vnd.example.weird+tar' });
  const source = new MemorySource(new Map([['latest', { bytes: img.manifest, mediaType: img.manifestMediaType }]]), img.blobs);
  const error = await t.throwsAsync(resolveImage(source, 'latest'));
  t.is((error as SyscontainerError).code, 'EMANIFEST');
  t.regex(error!.message, /^image memory\/test:latest: unsupported layer sha256:[0-9a-f]{12}… media type "application\/vnd\.example\.weird\+tar"$/);

  const schema1 = new MemorySource(new Map([['latest', { bytes: Buffer.from('{}'), mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }]]), new Map());
  const error1 = await t.throwsAsync(resolveImage(schema1, 'latest'));
  t.is(error1!.message, 'image memory/test:latest: unsupported manifest media type "application/vnd.docker.distribution.manifest.v1+prettyjws"');
});

test('a config whose diff_ids do not match the layers is refused', async (t) => {
  const img = tinyImage();
  const config = Buffer.from(JSON.stringify({ ...JSON.parse(img.config.toString()), rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = Buffer.from(img.manifest.toString().replace(img.configDigest, sha256(config)).replace(`"size":${img.config.length}`, `"size":${config.length}`));
  const source = new MemorySource(new Map([['latest', { bytes: manifest, mediaType: img.manifestMediaType }]]), new Map([[sha256(config), config]]));
  const error = await t.throwsAsync(resolveImage(source, 'latest'));
  t.is(error!.message, 'image memory/test:latest: config lists 0 diff_ids for 1 layers');
});

test('a config that does not match its digest is an IntegrityError', async (t) => {
  const img = tinyImage();
  const blobs = new Map(img.blobs);
  blobs.set(img.configDigest, Buffer.from(img.config.toString().replace('amd64', 'AMD64')));
  const source = new MemorySource(new Map([['latest', { bytes: img.manifest, mediaType: img.manifestMediaType }]]), blobs);
  const error = await t.throwsAsync(resolveImage(source, 'latest'));
  t.true(error instanceof IntegrityError);
});

async function registryServing(t: import('ava').ExecutionContext, body: Buffer, contentType: string) {
  const server = await startFakeServer((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200).end();
    res.writeHead(200, { 'Content-Type': contentType }).end(body);
  });
  t.teardown(() => server.stop());
  return new RegistrySource({ reference: { registry: server.host, repository: 'foo', tag: 'latest' }, conf: defaultRegistriesConf(), retry: fastRetry, tokenCache: new TokenCache() });
}

test('a malformed JSON manifest from a registry is EMANIFEST', async (t) => {
  const source = await registryServing(t, Buffer.from('{"schemaVersion": 2, "config": '), 'application/vnd.oci.image.manifest.v1+json');
  const error = await t.throwsAsync(resolveImage(source, 'latest'));
  t.is((error as SyscontainerError).code, 'EMANIFEST');
  t.is(error!.message, `image ${source.description}: manifest is not valid JSON`);
});

test('a well-formed JSON that is not a manifest names the first fault', async (t) => {
  const source = await registryServing(t, Buffer.from('{"schemaVersion": 2, "layers": []}'), 'application/vnd.oci.image.manifest.v1+json');
  const error = await t.throwsAsync(resolveImage(source, 'latest'));
  t.is((error as SyscontainerError).code, 'EMANIFEST');
  t.regex(error!.message, /manifest is malformed at config/);
});

test('an unsupported Content-Type from a registry is named', async (t) => {
  const source = await registryServing(t, Buffer.from('{}'), 'application/vnd.oci.artifact.manifest.v1+json; charset=utf-8');
  const error = await t.throwsAsync(resolveImage(source, 'latest'));
  t.is(error!.message, `image ${source.description}: unsupported manifest media type "application/vnd.oci.artifact.manifest.v1+json"`);
});

test('a generic Content-Type falls back to the document mediaType, which must not contradict it', async (t) => {
  const img = tinyImage();
  const server = await startFakeServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/') return void res.writeHead(200).end();
    if (url.includes('/manifests/')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(img.manifest);
    const blob = img.blobs.get(url.split('/').pop()!);
    if (blob) return void res.writeHead(200).end(blob);
    res.writeHead(404).end();
  });
  t.teardown(() => server.stop());
  const source = new RegistrySource({ reference: { registry: server.host, repository: 'foo', tag: 'latest' }, conf: defaultRegistriesConf(), retry: fastRetry });
  const resolved = await resolveImage(source, 'latest');
  t.is(resolved.manifestMediaType, 'application/vnd.oci.image.manifest.v1+json');

  const confused = new MemorySource(new Map([['latest', { bytes: img.manifest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }]]), img.blobs);
  const error = await t.throwsAsync(resolveImage(confused, 'latest'));
  t.regex(error!.message, /manifest says mediaType "application\/vnd\.oci\.image\.manifest\.v1\+json" but was served as/);
});
