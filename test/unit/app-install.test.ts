// install-image checks what the caller gave before anything goes over the network: a name or
// --set value that will be refused costs no pull. A scripted registry records every request.
import test, { type ExecutionContext } from 'ava';
import { createContext, defaultContainerName, installImage, readSettings, type InstallImageInput } from '../../app/index.js';
import { startFakeServer, type FakeServer } from '../helpers/fake-registry.js';
import { tempDir } from '../helpers/store-fixtures.js';

async function setUp(t: ExecutionContext): Promise<{ server: FakeServer; install: (input: Omit<InstallImageInput, 'image'>) => Promise<unknown> }> {
  const server = await startFakeServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  });
  t.teardown(() => server.stop());
  const root = await tempDir(t);
  const app = createContext(readSettings({}, { root, registriesConf: `${root}/no-registries.conf`, unitDir: `${root}/units` }));
  return { server, install: (input) => installImage(app, { ...input, image: `${server.host}/app/service:1`, system: true }) };
}

const refusedBeforePull = test.macro({
  async exec(t, input: Omit<InstallImageInput, 'image'>, message: RegExp) {
    const { server, install } = await setUp(t);
    await t.throwsAsync(install(input), { message });
    t.deepEqual(server.requests, [], 'no request reached the registry');
  },
  title: (what = '') => `install refuses ${what} before any network access`,
});

test('a name with ..', refusedBeforePull, { name: '../x' }, /container name "\.\.\/x" starts with "\."/);
test('a name with /', refusedBeforePull, { name: 'a/b' }, /container name "a\/b" has characters outside/);
test('a name starting with -', refusedBeforePull, { name: '-rf' }, /container name "-rf" starts with "-"/);
test('an empty name', refusedBeforePull, { name: '' }, /container name "" is empty/);
test('a --set value with a newline', refusedBeforePull, { name: 'ok', set: { GREETING: 'a\nExecStartPre=/bin/evil' } }, /GREETING/);
test('a --set of an installer variable', refusedBeforePull, { name: 'ok', set: { NAME: 'other' } }, /NAME/);

test('a valid install of an image the store lacks goes to the registry (the control of the above)', async (t) => {
  const { server, install } = await setUp(t);
  await t.throwsAsync(install({ name: 'ok' }));
  t.true(server.count('/v2/') > 0, 'the pull reached the registry');
});

test("without --name, the container is named as atomic named it: the image's last path component, no tag or digest", (t) => {
  t.is(defaultContainerName('quay.io/coreos/etcd:v3.5'), 'etcd');
  t.is(defaultContainerName('127.0.0.1:5055/gscrivano/spc-etcd'), 'spc-etcd');
  t.is(defaultContainerName(`busybox@sha256:${'a'.repeat(64)}`), 'busybox');
  t.is(defaultContainerName('localhost:5000/flannel:latest'), 'flannel');
});
