// Retries, error messages, manifest fetching and mirrors against a scripted loopback server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { IntegrityError, RegistryError, SyscontainerError } from '../../common/errors.js';
import { limits } from '../../store/oci/oci-types.js';
import { defaultRegistriesConf, loadRegistriesConf } from '../../store/registry/registries-conf.js';
import { openFirstAvailable, RegistrySource } from '../../store/sources/registry-source.js';
import { openRegistrySource } from '../../store/pull/open-registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { fakeRegistrySource, fastRetry, imageMaps, serveImages, startFakeServer, tinyImage } from '../helpers/fake-registry.js';
import { testNeeding } from '../helpers/host-requirements.js';

const image = tinyImage();
const { manifests, blobs } = imageMaps(image);


test('a registry answering 500 forever is given up on after N tries, quickly', async (t) => {
  const { server, source } = await fakeRegistrySource(t, (_req, res) => void res.writeHead(500).end('oops'), { tries: 4 });
  const began = Date.now();
  const error = await t.throwsAsync(source.fetchManifest('latest'));
  t.true(error instanceof RegistryError);
  t.is(error!.message, `registry ${server.host} keeps failing: 500 after 4 tries`);
  t.is((error as RegistryError).status, 500);
  t.true((error as RegistryError).retryable);
  t.is(server.count('/v2/foo/manifests/latest'), 4);
  // The backoff here is 5-20 ms a try; the bound only catches an unbounded wait, with room for
  // a loaded machine (these fake-server tests failed at 2 s under a load of 10).
  t.true(Date.now() - began < 15_000);
});

test('a 429 with Retry-After is waited out, then the request succeeds', async (t) => {
  let calls = 0;
  const serve = serveImages(manifests, blobs);
  const { source } = await fakeRegistrySource(t, (req, res, body) => {
    if (++calls === 1) return void res.writeHead(429, { 'Retry-After': '1' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
    return serve(req, res, body);
  });
  const began = Date.now();
  t.is((await source.fetchManifest('latest')).digest, image.manifestDigest);
  t.true(Date.now() - began >= 950, 'waited the second Retry-After asked for');
  t.is(calls, 2);
});

test('a Retry-After beyond the cap is cut to the cap', async (t) => {
  let calls = 0;
  const serve = serveImages(manifests, blobs);
  const { source } = await fakeRegistrySource(
    t,
    (req, res, body) => {
      if (++calls === 1) return void res.writeHead(503, { 'Retry-After': '3600' }).end();
      return serve(req, res, body);
    },
    { retryAfterCapMs: 50 },
  );
  const began = Date.now();
  await source.fetchManifest('latest');
  // Uncut, the wait would be the hour the server asked for; the bound leaves room for load.
  t.true(Date.now() - began < 15_000);
  t.is(calls, 2);
});

test('a missing manifest gives one line with the status and the registry code', async (t) => {
  const { server, source } = await fakeRegistrySource(t, serveImages(new Map(), blobs));
  const error = await t.throwsAsync(source.fetchManifest('latest'));
  t.is(error!.message, `image ${server.host}/foo:latest: manifest unknown (404 MANIFEST_UNKNOWN)`);
  t.is((error as RegistryError).code, 'ENOTFOUND');
  t.false((error as RegistryError).retryable);
  t.is(server.count('/v2/foo/manifests/'), 1, '404 is not retried');
});

test('manifests are asked for with every supported media type and verified by digest', async (t) => {
  const tampered = Buffer.from(image.manifest.toString().replace('"schemaVersion":2', '"schemaVersion": 2'));
  const { server, source } = await fakeRegistrySource(
    t,
    serveImages(new Map([[image.manifestDigest, { bytes: tampered, mediaType: image.manifestMediaType }], ['latest', { bytes: image.manifest, mediaType: image.manifestMediaType }]]), blobs),
  );
  const fetched = await source.fetchManifest('latest');
  t.deepEqual(fetched, { bytes: image.manifest, mediaType: image.manifestMediaType, digest: image.manifestDigest });
  const accept = String(server.requests.find((r) => r.url === '/v2/foo/manifests/latest')!.headers.accept);
  for (const type of ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']) {
    t.true(accept.includes(type), type);
  }
  const error = await t.throwsAsync(source.fetchManifest(image.manifestDigest));
  t.true(error instanceof IntegrityError);
  t.regex(error!.message, /manifest digest mismatch: expected sha256:/);
});

test('a manifest larger than the limit is refused while reading', async (t) => {
  const { source } = await fakeRegistrySource(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }); // chunked: no length to check up front
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (!res.destroyed && sent < limits.manifestBytes * 4) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const error = await t.throwsAsync(source.fetchManifest('latest'));
  t.is((error as SyscontainerError).code, 'ELIMIT');
  t.regex(error!.message, /manifest is larger than 4194304 bytes/);
});

test('an unreachable registry is retried, then reported as a network failure', async (t) => {
  const dead = await startFakeServer(() => undefined);
  await dead.stop();
  const source = new RegistrySource({
    reference: { registry: dead.host, repository: 'foo', tag: 'latest' },
    conf: defaultRegistriesConf(),
    retry: fastRetry,
    tokenCache: new TokenCache(),
  });
  const error = await t.throwsAsync(source.fetchManifest('latest'));
  t.is((error as RegistryError).code, 'ENETWORK');
  t.is(error!.message, `registry ${dead.host} keeps failing: ECONNREFUSED after 3 tries`);
});

test('mirrors are tried in order before the main location; misses fall through', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-mirror-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const emptyMirror = await startFakeServer(serveImages(new Map(), new Map(), 'cache/foo'));
  const goodMirror = await startFakeServer(serveImages(manifests, blobs, 'cache/foo'));
  const main = await startFakeServer(serveImages(manifests, blobs));
  t.teardown(() => Promise.all([emptyMirror.stop(), goodMirror.stop(), main.stop()]).then(() => undefined));
  const confFile = join(dir, 'registries.conf');
  await writeFile(
    confFile,
    `[[registry]]\nlocation = "${main.host}"\n[[registry.mirror]]\nlocation = "${emptyMirror.host}/cache"\n[[registry.mirror]]\nlocation = "${goodMirror.host}/cache"\n`,
  );
  const source = new RegistrySource({
    reference: { registry: main.host, repository: 'foo', tag: 'latest' },
    conf: await loadRegistriesConf(confFile),
    retry: fastRetry,
    tokenCache: new TokenCache(),
  });
  t.is((await source.fetchManifest('latest')).digest, image.manifestDigest);
  const config = await source.openBlob({ mediaType: 'x', digest: image.configDigest, size: image.config.length });
  config.resume();
  await new Promise((resolve) => config.on('end', resolve));
  t.is(emptyMirror.count('/v2/cache/foo/manifests/latest'), 1);
  t.is(goodMirror.count('/v2/cache/foo/manifests/latest'), 1);
  t.is(goodMirror.count('/v2/cache/foo/blobs/'), 1, 'blobs come from the mirror that served the manifest');
  t.is(main.count('/v2/foo/'), 0);
});

test('openFirstAvailable probes candidates with HEAD and returns the first that has the image', async (t) => {
  const empty = await startFakeServer(serveImages(new Map(), new Map()));
  const full = await startFakeServer(serveImages(manifests, blobs));
  t.teardown(() => Promise.all([empty.stop(), full.stop()]).then(() => undefined));
  const options = { conf: defaultRegistriesConf(), retry: fastRetry, tokenCache: new TokenCache() };
  const candidates = [empty, full].map((s) => ({ registry: s.host, repository: 'foo', tag: 'latest' }));
  const source = await openFirstAvailable(candidates, options);
  t.is(source.description, `${full.host}/foo:latest`);
  t.is(empty.count('/v2/foo/manifests/latest', 'HEAD'), 1);
  t.is(full.count('/v2/foo/manifests/latest', 'GET'), 0, 'probing does not download manifests');

  const error = await t.throwsAsync(openFirstAvailable([candidates[0]!, candidates[0]!], options));
  t.is((error as SyscontainerError).code, 'ENOTFOUND');
  t.regex(error!.message, /^image not found in any search registry \(127\.0\.0\.1:\d+\/foo:latest: not found; /);
});

test('a blocked registry is refused before any request', async (t) => {
  const conf = defaultRegistriesConf();
  conf.registries.push({ prefix: 'blocked.example', location: 'blocked.example', insecure: false, blocked: true, mirrors: [] });
  const error = t.throws(() => new RegistrySource({ reference: { registry: 'blocked.example', repository: 'x', tag: 'latest' }, conf }));
  t.regex(error!.message, /registry blocked\.example is blocked in registries\.conf/);
});

test('openRegistrySource qualifies a short name through the search registries', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-search-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const empty = await startFakeServer(serveImages(new Map(), new Map()));
  const full = await startFakeServer(serveImages(manifests, blobs));
  t.teardown(() => Promise.all([empty.stop(), full.stop()]).then(() => undefined));
  const registriesConf = join(dir, 'registries.conf');
  await writeFile(registriesConf, `unqualified-search-registries = ["${empty.host}", "${full.host}"]\n`);
  const source = await openRegistrySource('foo', { registriesConf, retry: fastRetry });
  t.is(source.description, `${full.host}/foo:latest`);
  t.is(source.defaultManifestReference, 'latest');
  await t.throwsAsync(openRegistrySource('Foo', { registriesConf }), { message: /must be lowercase/ });
});

testNeeding({ tools: ['openssl'] })('an untrusted TLS certificate fails at once with a hint; loopback TLS registries work unverified', async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { readFile } = await import('node:fs/promises');
  const https = await import('node:https');
  const { sendHttp } = await import('../../store/registry/http.js');
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')]);
  let hits = 0;
  const serve = serveImages(manifests, blobs);
  const server = https.createServer({ key: await readFile(join(dir, 'k')), cert: await readFile(join(dir, 'c')) }, (req, res) => {
    hits++;
    void serve(req, res, Buffer.alloc(0));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const url = new URL(`https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/v2/`);
  const error = await t.throwsAsync(sendHttp({ method: 'GET', url, timeoutMs: 5_000 }));
  t.true(error instanceof RegistryError);
  t.false((error as RegistryError).retryable);
  t.is(error!.message, `registry ${url.host}: TLS certificate not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)`);
  t.regex((error as RegistryError).hint ?? '', /certs\.d|insecure/);
  t.is(hits, 0);
  // The same server is fine for a loopback registry (TLS without verification).
  const ok = await sendHttp({ method: 'GET', url, timeoutMs: 5_000, insecureTls: true });
  ok.body.resume();
  t.is(ok.status, 200);
  // And a loopback registry that speaks TLS is reached over https, not downgraded.
  const source = new RegistrySource({ reference: { registry: url.host, repository: 'foo', tag: 'latest' }, conf: defaultRegistriesConf(), retry: fastRetry, tokenCache: new TokenCache() });
  t.is((await source.fetchManifest('latest')).digest, image.manifestDigest);
  t.is(hits, 3);
});
