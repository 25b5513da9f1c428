// Against the real docker-registry: push a tiny image with the push primitives, read it back
// through RegistrySource + resolveImage, anonymously, with htpasswd and with token auth.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Credentials } from '../../store/registry/auth-file.js';
import { RegistryError } from '../../common/errors.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { login } from '../../store/registry/login.js';
import { RegistryPush } from '../../store/registry/push.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { resolveImage } from '../../store/pull/resolve-manifest.js';
import { collect, fastRetry, sha256, tinyImage } from '../helpers/fake-registry.js';
import { startRegistry, type RegistryServerOptions } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry, { tools: ['htpasswd'] });

const conf = defaultRegistriesConf();
const retry = { ...fastRetry, tries: 2 };

async function registry(t: import('ava').ExecutionContext, options: RegistryServerOptions = {}) {
  const server = await startRegistry(options);
  t.teardown(() => server.stop());
  return server;
}

async function pushTiny(host: string, credentials: Credentials | undefined, tokenCache = new TokenCache()) {
  const image = tinyImage();
  const push = new RegistryPush({ registry: host, conf, retry, tokenCache, authFile: '/nonexistent/auth.json', ...(credentials ? { credentials } : {}) });
  for (const [digest, bytes] of image.blobs) {
    if (!(await push.blobExists('test/tiny', digest))) await push.uploadBlob('test/tiny', { digest, size: bytes.length }, bytes);
  }
  const digest = await push.putManifest('test/tiny', 'v1', image.manifest, image.manifestMediaType);
  return { image, push, digest };
}

function source(host: string, credentials?: Credentials, extra: { authFile?: string } = {}) {
  return new RegistrySource({
    reference: { registry: host, repository: 'test/tiny', tag: 'v1' },
    conf,
    retry,
    tokenCache: new TokenCache(),
    authFile: extra.authFile ?? '/nonexistent/auth.json',
    ...(credentials ? { credentials } : {}),
  });
}

async function readBack(t: import('ava').ExecutionContext, src: RegistrySource, image: ReturnType<typeof tinyImage>) {
  const resolved = await resolveImage(src, 'v1', { os: 'linux', architecture: 'amd64' });
  t.is(resolved.manifestDigest, image.manifestDigest);
  t.true(resolved.configBytes.equals(image.config));
  const layer = resolved.manifest.layers[0]!;
  t.true((await collect(await src.openBlob(layer))).equals(image.layer));
  // By digest too (the registry serves the bytes we pushed).
  t.is((await src.fetchManifest(image.manifestDigest)).digest, image.manifestDigest);
}

test('anonymous: push primitives, then pull back through RegistrySource', async (t) => {
  const server = await registry(t);
  const { image, push, digest } = await pushTiny(server.host, undefined);
  t.is(digest, image.manifestDigest);
  t.true(await push.blobExists('test/tiny', image.layerDigest));
  t.false(await push.blobExists('test/tiny', sha256('nope')));
  // Mount into another repository of the same registry: 201, no upload needed.
  t.true(await push.mountBlob('test/other', image.layerDigest, 'test/tiny'));
  t.true(await push.blobExists('test/other', image.layerDigest));
  t.false(await push.mountBlob('test/other', sha256('absent'), 'test/tiny'));
  // A streamed upload (no Buffer) works as well.
  const streamed = Buffer.from('streamed blob');
  await push.uploadBlob('test/other', { digest: sha256(streamed), size: streamed.length }, () => Readable.from([streamed]));
  t.true(await push.blobExists('test/other', sha256(streamed)));
  // A large Buffer (sent as a stream, header timeout after the body) uploads and reads back.
  const large = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
  await push.uploadBlob('test/other', { digest: sha256(large), size: large.length }, large);
  const other = new RegistrySource({ reference: { registry: server.host, repository: 'test/other', tag: 'x' }, conf, retry, tokenCache: new TokenCache() });
  t.true((await collect(await other.openBlob({ mediaType: 'x', digest: sha256(large), size: large.length }))).equals(large));
  await readBack(t, source(server.host), image);

  const missing = await t.throwsAsync(source(server.host).fetchManifest('nope'));
  t.is(missing!.message, `image ${server.host}/test/tiny:nope: manifest unknown (404 MANIFEST_UNKNOWN)`);
});

test('htpasswd: right credentials work, wrong ones and none are told apart', async (t) => {
  const server = await registry(t, { htpasswd: { username: 'alice', password: 's3cret' } });
  const alice = { username: 'alice', password: 's3cret' };
  const { image } = await pushTiny(server.host, alice);
  await readBack(t, source(server.host, alice), image);

  const none = await t.throwsAsync(source(server.host).fetchManifest('v1'));
  t.is((none as RegistryError).code, 'EAUTH');
  t.is(none!.message, `registry ${server.host}: authentication required (401); run syscontainer login ${server.host}`);

  const wrong = await t.throwsAsync(source(server.host, { username: 'alice', password: 'nope' }).fetchManifest('v1'));
  t.is((wrong as RegistryError).code, 'EAUTH');
  t.regex(wrong!.message, new RegExp(`^registry ${server.host.replace(/\./g, '\\.')}: credentials for user "alice" were rejected \\(401`));

  // login checks against the registry, then the stored credentials serve the next pull.
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-login-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const authFile = join(dir, 'auth.json');
  await t.throwsAsync(login({ registry: server.host, username: 'alice', password: 'nope', conf, authFile, retry }), { instanceOf: RegistryError });
  await login({ registry: server.host, username: 'alice', password: 's3cret', conf, authFile, retry });
  t.is((await source(server.host, undefined, { authFile }).fetchManifest('v1')).digest, image.manifestDigest);
});

test('token auth: tokens from the issuer, pull and push scopes, wrong credentials refused', async (t) => {
  const server = await registry(t, { token: { users: { bob: 'pw' } } });
  const issuer = server.tokenIssuer!;
  const bob = { username: 'bob', password: 'pw' };
  const tokens = new TokenCache();
  const { image } = await pushTiny(server.host, bob, tokens);
  t.true(issuer.requests.some((r) => r.account === 'bob' && r.scopes.includes('repository:test/tiny:pull,push')));
  const pushTokenRequests = issuer.requests.length;
  t.true(pushTokenRequests <= 2, `push used ${pushTokenRequests} token requests (cached)`);

  await readBack(t, source(server.host, bob), image);
  t.true(issuer.requests.some((r) => r.account === 'bob' && r.scopes.includes('repository:test/tiny:pull')));

  const anonymous = await t.throwsAsync(source(server.host).fetchManifest('v1'));
  t.is((anonymous as RegistryError).code, 'EAUTH');
  t.is(anonymous!.message, `registry ${server.host}: authentication required (401); run syscontainer login ${server.host}`);

  const wrong = await t.throwsAsync(source(server.host, { username: 'bob', password: 'x' }).fetchManifest('v1'));
  t.is((wrong as RegistryError).code, 'EAUTH');
  t.is(wrong!.message, `registry ${server.host}: credentials for user "bob" were rejected by the token server (401)`);
});
