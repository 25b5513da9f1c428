// TCP and HTTP probes against local servers: what a pod's tcpSocket and httpGet probes do.
import test from 'ava';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { runProbe } from '../../runtime/health/probe.js';

async function listening<S extends { listen: (port: number, host: string, cb: () => void) => unknown; address: () => unknown; close: () => unknown }>(server: S): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('TCP: a listening port passes, a closed one fails naming the target', async (t) => {
  const server = createTcpServer((socket) => socket.end());
  const port = await listening(server);
  t.teardown(() => server.close());
  t.deepEqual(await runProbe('TCP', `127.0.0.1:${port}`, 2000), { ok: true, output: `connected to 127.0.0.1:${port}` });
  server.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closed = await runProbe('TCP', `127.0.0.1:${port}`, 2000);
  t.false(closed.ok);
  t.regex(closed.output, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
});

test('HTTP: 200-399 pass (redirects not followed), 500 fails, a silent server times out', async (t) => {
  const server = createHttpServer((request, response) => {
    if (request.url === '/silent') return; // never answers
    const status = request.url === '/ok' ? 200 : request.url === '/moved' ? 302 : 500;
    response.writeHead(status, status === 302 ? { Location: '/elsewhere' } : {}).end();
  });
  const port = await listening(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  t.deepEqual(await runProbe('HTTP', url('/ok'), 2000), { ok: true, output: `HTTP 200 from ${url('/ok')}` });
  t.true((await runProbe('HTTP', url('/moved'), 2000)).ok);
  t.deepEqual(await runProbe('HTTP', url('/broken'), 2000), { ok: false, output: `HTTP 500 from ${url('/broken')}` });
  const began = Date.now();
  const silent = await runProbe('HTTP', url('/silent'), 300);
  t.false(silent.ok);
  t.regex(silent.output, /no answer from .* within 300 ms/);
  t.true(Date.now() - began < 5000);
});
