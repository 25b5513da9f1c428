// Blob downloads against a scripted loopback server: resume with Range, stalls, integrity
// failures, endless bodies, redirects.
import test from 'ava';
import { IntegrityError, RegistryError } from '../../common/errors.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import { TokenCache } from '../../store/registry/token-cache.js';
import { collect, fakeRegistrySource, fastRetry, sha256, startFakeServer } from '../helpers/fake-registry.js';

const blob = Buffer.alloc(300_000, 0);
for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
const descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(blob), size: blob.length };
const blobPath = `/v2/foo/blobs/${descriptor.digest}`;


function rangeStart(header: string | string[] | undefined): number | undefined {
  const m = /^bytes=(\d+)-$/.exec(String(header ?? ''));
  return m ? Number(m[1]) : undefined;
}

test('a blob cut off mid-stream is resumed with a Range request', async (t) => {
  const half = 100_000;
  const { server, source } = await fakeRegistrySource(t, (req, res) => {
    const start = rangeStart(req.headers.range);
    if (start === undefined) {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.writeHead(206, { 'Content-Length': blob.length - start, 'Content-Range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
    res.end(blob.subarray(start));
  });
  const data = await collect(await source.openBlob(descriptor));
  t.true(data.equals(blob));
  const ranged = server.requests.filter((r) => r.url === blobPath && r.headers.range !== undefined);
  t.is(ranged.length, 1);
  t.true((rangeStart(ranged[0]!.headers.range) ?? 0) > 0);
});

test('a stalled blob download is aborted after the stall timeout and resumed', async (t) => {
  // A stall that is never detected hangs: only that fails here on time, never a slow machine.
  t.timeout(60_000);
  const ranges: (string | undefined)[] = [];
  const { server, source } = await fakeRegistrySource(
    t,
    (req, res) => {
      ranges.push(req.headers.range);
      const start = rangeStart(req.headers.range);
      if (start === undefined) {
        res.writeHead(200, { 'Content-Length': blob.length });
        res.write(blob.subarray(0, 50_000)); // and then nothing, connection kept open
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
      res.end(blob.subarray(start));
    },
    { stallTimeoutMs: 200 },
  );
  const data = await collect(await source.openBlob(descriptor));
  t.true(data.equals(blob));
  t.is(server.count(blobPath), 2);
  t.deepEqual(ranges, [undefined, 'bytes=50000-'], 'resumed from the byte it stalled at');
});

test('a registry that ignores Range after bytes were passed on fails clearly', async (t) => {
  const { source } = await fakeRegistrySource(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': blob.length });
    res.write(blob.subarray(0, 70_000), () => setTimeout(() => res.socket?.destroy(), 20));
  });
  const stream = await source.openBlob(descriptor);
  const error = await t.throwsAsync(collect(stream));
  t.true(error instanceof RegistryError);
  t.regex(error!.message, /blob sha256:[0-9a-f]{12}…: download interrupted after \d+ bytes and the registry cannot resume it \(answered 200 to a Range request\)/);
});

test('a connection that breaks before any byte is simply retried from the start', async (t) => {
  let calls = 0;
  const { source } = await fakeRegistrySource(t, (_req, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.flushHeaders();
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.writeHead(200, { 'Content-Length': blob.length }).end(blob);
  });
  t.true((await collect(await source.openBlob(descriptor))).equals(blob));
  t.is(calls, 2);
});

test('a blob whose bytes do not match the digest ends in an IntegrityError, not in end', async (t) => {
  const wrong = Buffer.from(blob);
  wrong[1234] = (wrong[1234]! + 1) % 256;
  const { source } = await fakeRegistrySource(t, (_req, res) => void res.writeHead(200, { 'Content-Length': wrong.length }).end(wrong));
  const stream = await source.openBlob(descriptor);
  let ended = false;
  stream.on('end', () => (ended = true));
  const error = await t.throwsAsync(collect(stream));
  t.true(error instanceof IntegrityError);
  t.is((error as IntegrityError).code, 'EINTEGRITY');
  t.regex(error!.message, new RegExp(`^image ${escape(sourceHost(source))}/foo:latest: blob sha256:[0-9a-f]{12}… digest mismatch: expected ${descriptor.digest}, got sha256:`));
  t.false(ended);
});

test('a blob shorter than its descriptor says fails with the sizes', async (t) => {
  const { source } = await fakeRegistrySource(t, (req, res) => {
    if (req.headers.range) return void res.writeHead(416).end();
    res.writeHead(200).end(blob.subarray(0, blob.length - 10)); // chunked: no length announced
  });
  const error = await t.throwsAsync(collect(await source.openBlob(descriptor)));
  t.true(error instanceof IntegrityError);
  t.regex(error!.message, new RegExp(`size mismatch: expected ${blob.length}, got ${blob.length - 10}$`));
});

test('a Content-Length that contradicts the descriptor is refused before reading', async (t) => {
  const { source } = await fakeRegistrySource(t, (_req, res) => void res.writeHead(200, { 'Content-Length': blob.length - 10 }).end(blob.subarray(0, blob.length - 10)));
  const error = await t.throwsAsync(source.openBlob(descriptor));
  t.true(error instanceof IntegrityError);
  t.regex(error!.message, new RegExp(`blob sha256:[0-9a-f]{12}… size mismatch: expected ${blob.length}, got ${blob.length - 10} \\(Content-Length\\)$`));
});

test('an endless body is cut off as soon as it exceeds the descriptor size', async (t) => {
  let written = 0;
  const { source } = await fakeRegistrySource(t, (_req, res) => {
    res.writeHead(200); // chunked, no length
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = (): void => {
      while (!res.destroyed && written < 1024 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  const error = await t.throwsAsync(collect(await source.openBlob(descriptor)));
  t.true(error instanceof IntegrityError);
  t.regex(error!.message, new RegExp(`size mismatch: expected ${blob.length}, got more than ${blob.length} bytes`));
  t.true(written < 64 * 1024 * 1024, `server wrote ${written} bytes before the client gave up`);
});

test('a redirect to another host is followed without the Authorization header', async (t) => {
  const cdn = await startFakeServer((_req, res) => void res.writeHead(200, { 'Content-Length': blob.length }).end(blob), '127.0.0.1');
  t.teardown(() => cdn.stop());
  const server = await startFakeServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' }).end();
    }
    if (req.url === '/v2/') return void res.writeHead(200).end();
    // "localhost" is another host than "127.0.0.1" for the client, though it is the same machine.
    res.writeHead(307, { Location: `http://localhost:${cdn.port}/cdn/blob?sig=1` }).end();
  });
  t.teardown(() => server.stop());
  const source = new RegistrySource({
    reference: { registry: server.host, repository: 'foo', tag: 'latest' },
    conf: defaultRegistriesConf(),
    retry: fastRetry,
    credentials: { username: 'u', password: 'p' },
    tokenCache: new TokenCache(),
  });
  t.true((await collect(await source.openBlob(descriptor))).equals(blob));
  t.is(cdn.requests.length, 1);
  t.is(cdn.requests[0]!.headers.authorization, undefined);
  t.is(cdn.requests[0]!.url, '/cdn/blob?sig=1');
  t.truthy(server.requests.find((r) => r.url === blobPath)?.headers.authorization);
});

test('a redirect loop is bounded', async (t) => {
  const { server, source } = await fakeRegistrySource(t, (req, res) => void res.writeHead(302, { Location: req.url === blobPath ? '/loop/a' : blobPath }).end(), {
    maxRedirects: 5,
  });
  const error = await t.throwsAsync(source.openBlob(descriptor));
  t.true(error instanceof RegistryError);
  t.regex(error!.message, /too many redirects \(more than 5\)/);
  t.is(server.requests.filter((r) => r.url !== '/v2/').length, 6);
});

test('a missing blob names the image and the blob', async (t) => {
  const { source } = await fakeRegistrySource(t, (_req, res) =>
    void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}'),
  );
  const error = await t.throwsAsync(source.openBlob(descriptor));
  t.true(error instanceof RegistryError);
  t.is((error as RegistryError).code, 'ENOTFOUND');
  t.deepEqual((error as RegistryError).registryCodes, ['BLOB_UNKNOWN']);
  t.regex(error!.message, /^image 127\.0\.0\.1:\d+\/foo:latest: blob sha256:[0-9a-f]{12}…: blob unknown \(404 BLOB_UNKNOWN\)$/);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sourceHost(source: RegistrySource): string {
  return source.reference.registry!;
}

test('a slow consumer is not mistaken for a stalled registry', async (t) => {
  const big = Buffer.alloc(8 * 1024 * 1024, 7);
  const bigDescriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(big), size: big.length };
  // The stall timeout is long enough that a loaded machine's pauses are not stalls (150 ms
  // failed at a load of 15); the consumer stops reading for three of them.
  const { server, source } = await fakeRegistrySource(t, (_req, res) => void res.writeHead(200, { 'Content-Length': big.length }).end(big), { stallTimeoutMs: 1000 });
  const stream = await source.openBlob(bigDescriptor);
  let total = 0;
  let paused = false;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (!paused && total > 1024 * 1024) {
      paused = true;
      await new Promise((resolve) => setTimeout(resolve, 3000)); // three stall timeouts of not reading
    }
  }
  t.is(total, big.length);
  t.is(server.count(blobPath.replace(descriptor.digest, bigDescriptor.digest)), 1, 'no resume was needed');
});
