// Authentication against a scripted loopback registry: Bearer challenge and token cache,
// Basic, credentials from auth files, login/logout, and the messages a user sees.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { RegistryError } from '../../common/errors.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { login, logout } from '../../store/registry/login.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { fastRetry, imageMaps, serveImages, startFakeServer, tinyImage } from '../helpers/fake-registry.js';

const image = tinyImage();
const { manifests, blobs } = imageMaps(image);
const serve = serveImages(manifests, blobs);

async function tempDir(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A registry that wants Bearer tokens from its own /token endpoint (user u / password p). */
async function bearerRegistry(t: import('ava').ExecutionContext, options: { expiresIn?: number } = {}) {
  let issued = 0;
  const server = await startFakeServer((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      const auth = req.headers.authorization;
      if (auth !== undefined && auth !== `Basic ${Buffer.from('u:p').toString('base64')}`) return void res.writeHead(401).end('{"details":"bad"}');
      issued++;
      const token = `tok-${issued}-${url.searchParams.getAll('scope').join(' ')}`;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ token, ...(options.expiresIn !== undefined ? { expires_in: options.expiresIn } : {}) }));
    }
    const realm = `http://${req.headers.host}/token`;
    const authz = req.headers.authorization ?? '';
    const scope = url.pathname.startsWith('/v2/foo/') ? 'repository:foo:pull' : '';
    if (!authz.startsWith('Bearer tok-') || (scope !== '' && !authz.includes(scope))) {
      const params = [`realm="${realm}"`, 'service="fake-registry"', ...(scope ? [`scope="${scope}"`, 'error="insufficient_scope"'] : [])];
      res.writeHead(401, { 'WWW-Authenticate': `Bearer ${params.join(',')}`, 'Content-Type': 'application/json' });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    return serve(req, res, body);
  });
  t.teardown(() => server.stop());
  return { server, issued: () => issued };
}

function source(host: string, extra: Partial<ConstructorParameters<typeof RegistrySource>[0]> = {}) {
  return new RegistrySource({
    reference: { registry: host, repository: 'foo', tag: 'latest' },
    conf: defaultRegistriesConf(),
    retry: fastRetry,
    tokenCache: new TokenCache(),
    authFile: '/nonexistent/auth.json',
    ...extra,
  });
}

test('a 401 Bearer challenge is answered with a token for repository:NAME:pull', async (t) => {
  const { server } = await bearerRegistry(t);
  const fetched = await source(server.host).fetchManifest('latest');
  t.is(fetched.digest, image.manifestDigest);
  const tokenRequest = server.requests.find((r) => r.url.startsWith('/token'))!;
  const params = new URL(tokenRequest.url, 'http://x').searchParams;
  t.is(params.get('service'), 'fake-registry');
  t.deepEqual(params.getAll('scope'), ['repository:foo:pull']);
  t.is(tokenRequest.headers.authorization, undefined, 'anonymous token request');
});

test('tokens are cached per registry and scope until they expire', async (t) => {
  const { server, issued } = await bearerRegistry(t, { expiresIn: 2 });
  const tokens = new TokenCache();
  const src = source(server.host, { tokenCache: tokens });
  await src.fetchManifest('latest');
  await src.fetchManifest(image.manifestDigest);
  const layer = await src.openBlob({ mediaType: 'x', digest: image.layerDigest, size: image.layer.length });
  layer.resume();
  await new Promise((resolve) => layer.on('end', resolve));
  // A second source for the same registry shares the cache it is given.
  await source(server.host, { tokenCache: tokens }).fetchManifest('latest');
  t.is(issued(), 1);
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  await src.fetchManifest('latest');
  t.is(issued(), 2, 'an expired token is replaced');
});

test('credentials from the auth file are sent to the token server', async (t) => {
  const { server } = await bearerRegistry(t);
  const dir = await tempDir(t);
  const authFile = join(dir, 'auth.json');
  await writeFile(authFile, JSON.stringify({ auths: { [server.host]: { auth: Buffer.from('u:p').toString('base64') } } }));
  await source(server.host, { authFile }).fetchManifest('latest');
  const tokenRequest = server.requests.find((r) => r.url.startsWith('/token'))!;
  t.is(tokenRequest.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  t.is(new URL(tokenRequest.url, 'http://x').searchParams.get('account'), 'u');
});

test('wrong credentials for a token server give EAUTH naming the registry', async (t) => {
  const { server } = await bearerRegistry(t);
  const error = await t.throwsAsync(source(server.host, { credentials: { username: 'u', password: 'wrong' } }).fetchManifest('latest'));
  t.true(error instanceof RegistryError);
  t.is((error as RegistryError).code, 'EAUTH');
  t.is(error!.message, `registry ${server.host}: credentials for user "u" were rejected by the token server (401)`);
});

/** A registry with Basic auth (user u / password p). */
async function basicRegistry(t: import('ava').ExecutionContext) {
  const server = await startFakeServer((req, res, body) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"', 'Content-Type': 'application/json' });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    return serve(req, res, body);
  });
  t.teardown(() => server.stop());
  return server;
}

test('Basic auth: right credentials work, none give the login hint, wrong ones are named', async (t) => {
  const server = await basicRegistry(t);
  t.is((await source(server.host, { credentials: { username: 'u', password: 'p' } }).fetchManifest('latest')).digest, image.manifestDigest);

  const anonymous = await t.throwsAsync(source(server.host).fetchManifest('latest'));
  t.is((anonymous as RegistryError).code, 'EAUTH');
  t.is((anonymous as RegistryError).status, 401);
  t.is(anonymous!.message, `registry ${server.host}: authentication required (401); run syscontainer login ${server.host}`);

  const wrong = await t.throwsAsync(source(server.host, { credentials: { username: 'u', password: 'x' } }).fetchManifest('latest'));
  t.is((wrong as RegistryError).code, 'EAUTH');
  t.is(wrong!.message, `registry ${server.host}: credentials for user "u" were rejected (401 UNAUTHORIZED)`);
});

test('login verifies the credentials, then writes the auth file 0600 atomically; logout removes them', async (t) => {
  const server = await basicRegistry(t);
  const dir = await tempDir(t);
  const authFile = join(dir, 'new', 'sub', 'auth.json');
  const conf = defaultRegistriesConf();

  const refused = await t.throwsAsync(login({ registry: server.host, username: 'u', password: 'bad', conf, authFile, retry: fastRetry }));
  t.is((refused as RegistryError).code, 'EAUTH');
  t.regex(refused!.message, new RegExp(`^registry ${server.host.replace(/\./g, '\\.')}: credentials for user "u" were rejected`));
  await t.throwsAsync(stat(authFile), { code: 'ENOENT' }, 'nothing written for refused credentials');

  const done = await login({ registry: `http://${server.host}/`, username: 'u', password: 'p', conf, authFile, retry: fastRetry });
  t.is(done.registry, server.host);
  t.is(done.authFile, authFile);
  t.is((await stat(authFile)).mode & 0o777, 0o600);
  t.is((await stat(join(dir, 'new'))).mode & 0o777, 0o700);
  const doc = JSON.parse(await readFile(authFile, 'utf8'));
  t.deepEqual(doc, { auths: { [server.host]: { auth: Buffer.from('u:p').toString('base64') } } });

  // The stored credentials are what the next pull uses.
  t.is((await source(server.host, { authFile }).fetchManifest('latest')).digest, image.manifestDigest);

  t.true(await logout(server.host, authFile));
  t.false(await logout(server.host, authFile));
  t.deepEqual(JSON.parse(await readFile(authFile, 'utf8')), { auths: {} });
});

test('login to a Bearer registry asks the token server and accepts its answer', async (t) => {
  const { server, issued } = await bearerRegistry(t);
  const dir = await tempDir(t);
  const authFile = join(dir, 'auth.json');
  await login({ registry: server.host, username: 'u', password: 'p', conf: defaultRegistriesConf(), authFile, retry: fastRetry, tokenCache: new TokenCache() });
  t.is(issued(), 1);
  const wrong = await t.throwsAsync(
    login({ registry: server.host, username: 'u', password: 'q', conf: defaultRegistriesConf(), authFile: join(dir, 'other.json'), retry: fastRetry, tokenCache: new TokenCache() }),
  );
  t.is((wrong as RegistryError).code, 'EAUTH');
});

test('parallel requests share one token request', async (t) => {
  const { server, issued } = await bearerRegistry(t);
  const src = source(server.host);
  const blob = { mediaType: 'x', digest: image.layerDigest, size: image.layer.length };
  const results = await Promise.all([src.fetchManifest('latest'), src.fetchManifest(image.manifestDigest), src.openBlob(blob), src.openBlob(blob)]);
  for (const r of results) if ('resume' in r) r.resume();
  t.is(issued(), 1);
  t.is(server.count('/v2/', 'GET') - server.count('/v2/foo'), 1, 'one ping');
});
