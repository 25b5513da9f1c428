// Authentication and the request pipeline of the REST service, against the real service on a
// temporary unix socket and a loopback TCP port: the socket's permissions are the
// authentication on unix; on TCP a token and a project on every request (401 without either
// or with a bad token, 403 for a project the token does not grant), the token file holds only hashes.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startService, parseListenAddress } from '../../api/index.js';
import { createContext, parseDuration, readSettings, TokenStore } from '../../app/index.js';
import { apiRequest, rawExchange } from '../helpers/api-client.js';
import { tempDir } from '../helpers/cli.js';

async function service(t: ExecutionContext) {
  const root = await tempDir(t, 'syscontainer-api-');
  const socketPath = join(root, 'api.sock');
  const running = await startService({ app: createContext(readSettings({}, { root })), version: '0.0.0-test', listen: [parseListenAddress(`unix:${socketPath}`), parseListenAddress('tcp:127.0.0.1:0')] });
  t.teardown(() => running.stop());
  const port = Number(running.listeners[1]!.address.split(':').pop());
  const tokens = new TokenStore(join(root, '.service', 'tokens.json'));
  return { root, unix: { socketPath }, tcp: { port }, tokens, running };
}

const withToken = (token: string, project?: string) => ({ 'X-Auth-Token': token, ...(project !== undefined ? { 'X-Auth-Project-Id': project } : {}) });

test('the unix socket needs no token, is mode 0660, and answers /_ping with API-Version (HEAD too)', async (t) => {
  const s = await service(t);
  t.is((await stat(s.unix.socketPath)).mode & 0o777, 0o660);
  const get = await apiRequest(s.unix, 'GET', '/_ping');
  t.is(get.status, 200);
  t.is(get.body.toString(), 'OK');
  t.is(get.headers['api-version'], '1.41');
  const head = await apiRequest(s.unix, 'HEAD', '/_ping');
  t.is(head.status, 200);
  t.is(head.headers['api-version'], '1.41');
  const versioned = await apiRequest(s.unix, 'GET', '/v1.41/version');
  t.is(versioned.json.ApiVersion, '1.41');
  t.is(versioned.json.Version, '0.0.0-test');
});

test('TCP: no token, a bad one, or no project is 401 with a JSON message; another project is 403', async (t) => {
  const s = await service(t);
  const { token } = await s.tokens.create({ project: 'alpha' });
  const none = await apiRequest(s.tcp, 'GET', '/_ping');
  t.is(none.status, 401);
  t.regex(none.json.message, /authentication required/);
  const wrong = await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(`${token.slice(0, -1)}x`, 'alpha') });
  t.is(wrong.status, 401);
  t.regex(wrong.json.message, /token is not valid/);
  const noProject = await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(token) });
  t.is(noProject.status, 401);
  t.regex(noProject.json.message, /X-Auth-Project-Id is required/);
  const other = await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(token, 'beta') });
  t.is(other.status, 403);
  t.is(other.json.message, 'this token does not grant project beta');
  const ok = await apiRequest(s.tcp, 'GET', '/v1.41/_ping', { headers: withToken(token, 'alpha') });
  t.is(ok.status, 200);
  const bearer = await apiRequest(s.tcp, 'GET', '/_ping', { headers: { Authorization: `Bearer ${token}`, 'X-Auth-Project-Id': 'alpha' } });
  t.is(bearer.status, 200);
  const basic = await apiRequest(s.tcp, 'GET', '/_ping', { headers: { Authorization: 'Basic YTpi', 'X-Auth-Project-Id': 'alpha' } });
  t.is(basic.status, 401);
});

test('a revoked token is refused from the next request on, an expired one too; an admin token grants any project', async (t) => {
  const s = await service(t);
  const { token, record } = await s.tokens.create({ project: 'alpha' });
  t.is((await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(token, 'alpha') })).status, 200);
  await s.tokens.revoke(record.id);
  t.is((await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(token, 'alpha') })).status, 401);
  const expired = await s.tokens.create({ project: 'alpha', expiresInMs: 1, now: new Date(Date.now() - 1000) });
  t.is((await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(expired.token, 'alpha') })).status, 401);
  const admin = await s.tokens.create({ project: 'ops', admin: true });
  t.is((await apiRequest(s.tcp, 'GET', '/_ping', { headers: withToken(admin.token, 'alpha') })).status, 200);
});

test('the token file is 0600 and holds hashes, never a token', async (t) => {
  const s = await service(t);
  const { token } = await s.tokens.create({ project: 'alpha', expiresInMs: parseDuration('30d') });
  const file = join(s.root, '.service', 'tokens.json');
  t.is((await stat(file)).mode & 0o777, 0o600);
  const text = await readFile(file, 'utf8');
  t.false(text.includes(token));
  t.false(text.includes(token.slice(4, 20)));
  t.regex(text, /"sha256": "[0-9a-f]{64}"/);
  const [listed] = await s.tokens.list();
  t.true(Date.parse(listed!.expires!) - Date.now() > 29 * 86_400_000);
  t.throws(() => parseDuration('30 days'), { message: /expected a number and one of s, m, h, d/ });
});

test('unknown paths are 404 and wrong methods 405, as JSON; a malformed request is a 400', async (t) => {
  const s = await service(t);
  const missing = await apiRequest(s.unix, 'GET', '/v1.41/nothing/here');
  t.is(missing.status, 404);
  t.regex(missing.json.message, /page not found/);
  const method = await apiRequest(s.unix, 'DELETE', '/_ping');
  t.is(method.status, 405);
  t.is(method.headers.allow, 'GET');
  const raw = await rawExchange(s.unix, 'GET /_ping HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n');
  t.regex(raw, /^HTTP\/1\.1 400/);
});

test('a listener on a non-loopback address without TLS is refused before anything listens', async (t) => {
  const root = await tempDir(t, 'syscontainer-api-');
  await t.throwsAsync(startService({ app: createContext(readSettings({}, { root })), version: 'x', listen: [parseListenAddress('tcp:0.0.0.0:0')] }), { message: /a non-loopback address needs --tls-cert and --tls-key/ });
  t.throws(() => parseListenAddress('tcp:example'), { message: /expected unix:PATH or tcp:HOST:PORT/ });
  t.throws(() => parseListenAddress('unix:relative.sock'), { message: /unix:\/ABSOLUTE\/PATH/ });
});
