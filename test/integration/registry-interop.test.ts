// Interoperability with another client of the real docker-registry: an image (multi-platform
// index) pushed by skopeo resolves through RegistrySource, and what our push primitives
// wrote reads back byte for byte in skopeo.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parsePlatform } from '../../store/oci/platform.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { resolveImage } from '../../store/pull/resolve-manifest.js';
import { collect, fastRetry, sha256, tinyImage } from '../helpers/fake-registry.js';
import { startRegistry } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry, { tools: ['skopeo'] });

const run = promisify(execFile);

/** An OCI layout with an index of two platforms, each one gzip layer of a (empty) tar. */
async function writeLayout(dir: string): Promise<Record<string, string>> {
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const put = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(bytes);
    await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const manifests: object[] = [];
  const digests: Record<string, string> = {};
  for (const architecture of ['amd64', 'arm64']) {
    const tar = Buffer.concat([Buffer.from(architecture.padEnd(512, '\0')), Buffer.alloc(1024)]);
    const layer = await put(gzipSync(tar));
    const config = await put(Buffer.from(JSON.stringify({ architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } })));
    const manifest = await put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
        }),
      ),
    );
    digests[architecture] = manifest.digest;
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { os: 'linux', architecture } });
  }
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
  const indexBlob = await put(Buffer.from(JSON.stringify(index)));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...indexBlob, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }),
  );
  return digests;
}

test('an index pushed by skopeo resolves per platform; our pushes read back in skopeo', async (t) => {
  const server = await startRegistry();
  t.teardown(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-layout-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const digests = await writeLayout(dir);
  await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${server.host}/interop/multi:1`]);

  const source = new RegistrySource({ reference: { registry: server.host, repository: 'interop/multi', tag: '1' }, conf: defaultRegistriesConf(), retry: fastRetry, tokenCache: new TokenCache() });
  for (const architecture of ['amd64', 'arm64']) {
    const resolved = await resolveImage(source, '1', parsePlatform(`linux/${architecture}`));
    t.is(resolved.manifestDigest, digests[architecture]!);
    t.is(resolved.config.architecture, architecture);
    t.truthy(resolved.indexDigest);
    const layer = await collect(await source.openBlob(resolved.manifest.layers[0]!));
    t.is(layer.length, resolved.manifest.layers[0]!.size);
  }
  const none = await t.throwsAsync(resolveImage(source, '1', parsePlatform('linux/s390x')));
  t.regex(none!.message, /no manifest for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\)/);

  const image = tinyImage();
  const push = new RegistryPush({ registry: server.host, conf: defaultRegistriesConf(), retry: fastRetry, tokenCache: new TokenCache() });
  for (const [digest, bytes] of image.blobs) await push.uploadBlob('interop/ours', { digest, size: bytes.length }, bytes);
  await push.putManifest('interop/ours', 'v1', image.manifest, image.manifestMediaType);
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/interop/ours:v1`], { encoding: 'buffer' });
  t.true(Buffer.from(stdout).equals(image.manifest));
  const { stdout: config } = await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${server.host}/interop/ours:v1`], { encoding: 'buffer' });
  t.true(Buffer.from(config).equals(image.config));
});
