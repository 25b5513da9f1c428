// Push primitives against a scripted registry: upload with a relative Location, mount
// answers, manifest PUT, the pull,push scope, and retries of whole uploads.
import test from 'ava';
import { IntegrityError } from '../../common/errors.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { fastRetry, sha256, startFakeServer, type Handler } from '../helpers/fake-registry.js';

const blob = Buffer.from('some blob');
const digest = sha256(blob);

async function setup(t: import('ava').ExecutionContext, handler: Handler) {
  const stored = new Map<string, Buffer>();
  let tokens = 0;
  const server = await startFakeServer(async (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      tokens++;
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `t:${url.searchParams.getAll('scope').join(' ')}` }));
    }
    if (!(req.headers.authorization ?? '').startsWith('Bearer t:')) {
      return void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="svc"` }).end();
    }
    if (url.pathname === '/v2/') return void res.writeHead(200).end();
    return handler(req, res, body);
  });
  t.teardown(() => server.stop());
  const push = new RegistryPush({ registry: server.host, conf: defaultRegistriesConf(), retry: fastRetry, tokenCache: new TokenCache(), authFile: '/nonexistent/auth.json' });
  return { server, push, stored, tokens: () => tokens };
}

test('uploadBlob: POST, then PUT to a relative Location with ?digest=, under a pull,push token', async (t) => {
  const received = new Map<string, Buffer>();
  const { server, push, tokens } = await setup(t, (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/v2/ns/app/blobs/uploads/') {
      return void res.writeHead(202, { Location: '/v2/ns/app/blobs/uploads/u1?_state=abc', 'Docker-Upload-UUID': 'u1' }).end();
    }
    if (req.method === 'PUT' && url.pathname === '/v2/ns/app/blobs/uploads/u1') {
      t.is(url.searchParams.get('_state'), 'abc', 'the Location query is kept');
      received.set(url.searchParams.get('digest')!, body);
      return void res.writeHead(201, { Location: `/v2/ns/app/blobs/${digest}` }).end();
    }
    res.writeHead(404).end();
  });
  await push.uploadBlob('ns/app', { digest, size: blob.length }, blob);
  t.true(received.get(digest)?.equals(blob));
  t.is(tokens(), 1);
  const tokenRequest = server.requests.find((r) => r.url.startsWith('/token'))!;
  t.deepEqual(new URL(tokenRequest.url, 'http://x').searchParams.getAll('scope'), ['repository:ns/app:pull,push']);
});

test('uploadBlob refuses a Buffer that does not match its descriptor before sending anything', async (t) => {
  const { server, push } = await setup(t, (_req, res) => void res.writeHead(500).end());
  const error = await t.throwsAsync(push.uploadBlob('ns/app', { digest: sha256('other'), size: blob.length }, blob));
  t.true(error instanceof IntegrityError);
  t.is(server.requests.length, 0);
});

test('uploadBlob retries the whole upload when the PUT fails with 500', async (t) => {
  let puts = 0;
  const { push } = await setup(t, (req, res) => {
    if (req.method === 'POST') return void res.writeHead(202, { Location: `/v2/ns/app/blobs/uploads/u${puts}` }).end();
    if (req.method === 'PUT' && ++puts === 1) return void res.writeHead(500).end();
    res.writeHead(201).end();
  });
  await push.uploadBlob('ns/app', { digest, size: blob.length }, blob);
  t.is(puts, 2);
});

test('mountBlob: 201 is true; 202 is false and the started upload is cancelled', async (t) => {
  const { server, push } = await setup(t, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.searchParams.get('from') === 'ns/base') return void res.writeHead(201).end();
    if (req.method === 'POST') return void res.writeHead(202, { Location: '/v2/ns/app/blobs/uploads/u9' }).end();
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    res.writeHead(404).end();
  });
  t.true(await push.mountBlob('ns/app', digest, 'ns/base'));
  t.false(await push.mountBlob('ns/app', digest, 'ns/elsewhere'));
  const mount = server.requests.find((r) => r.method === 'POST')!;
  const params = new URL(mount.url, 'http://x').searchParams;
  t.is(params.get('mount'), digest);
  t.is(params.get('from'), 'ns/base');
  t.is(server.count('/v2/ns/app/blobs/uploads/u9', 'DELETE'), 1);
  const tokenScopes = server.requests.filter((r) => r.url.startsWith('/token')).flatMap((r) => new URL(r.url, 'http://x').searchParams.getAll('scope'));
  t.true(tokenScopes.includes('repository:ns/base:pull'), 'mount asks to pull from the source repository');
});

test('putManifest sends the media type and returns the digest; blobExists is HEAD', async (t) => {
  const manifest = Buffer.from('{"schemaVersion":2}');
  const { server, push } = await setup(t, (req, res) => {
    if (req.method === 'PUT') return void res.writeHead(201, { 'Docker-Content-Digest': sha256(manifest) }).end();
    if (req.method === 'HEAD') return void res.writeHead(req.url?.endsWith(digest) ? 200 : 404).end();
    res.writeHead(404).end();
  });
  t.is(await push.putManifest('ns/app', 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json'), sha256(manifest));
  const put = server.requests.find((r) => r.method === 'PUT')!;
  t.is(put.url, '/v2/ns/app/manifests/v1');
  t.is(put.headers['content-type'], 'application/vnd.oci.image.manifest.v1+json');
  t.true(put.body.equals(manifest));
  t.true(await push.blobExists('ns/app', digest));
  t.false(await push.blobExists('ns/app', sha256('x')));
});
