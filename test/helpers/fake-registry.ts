// A scriptable HTTP server on 127.0.0.1 for protocol edge cases, plus a tiny in-memory image
// to serve. Each test hands in its own request handler; every request is recorded.
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistrySource } from '../../store/sources/registry-source.js';
import type { RetryOptions } from '../../store/registry/retry.js';
import { TokenCache } from '../../store/registry/token-cache.js';

export interface RecordedRequest {
  method: string;
  /** Path plus query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface FakeServer {
  /** "127.0.0.1:PORT" */
  host: string;
  port: number;
  url: string;
  requests: RecordedRequest[];
  /** Requests whose path starts with `prefix`. */
  count(prefix: string, method?: string): number;
  stop(): Promise<void>;
}

export async function startFakeServer(handler: Handler, hostname = '127.0.0.1'): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, res, body)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(599);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, hostname, resolve));
  const port = (server.address() as AddressInfo).port;
  const host = `${hostname}:${port}`;
  return {
    host,
    port,
    url: `http://${host}`,
    requests,
    count: (prefix, method) => requests.filter((r) => r.url.startsWith(prefix) && (method === undefined || r.method === method)).length,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface TinyImage {
  layer: Buffer;
  layerDigest: string;
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  blobs: Map<string, Buffer>;
}

/** A one-layer image (the layer bytes need not be a real tar for protocol tests). */
export function tinyImage(options: { layer?: Buffer; architecture?: string; variant?: string; layerMediaType?: string; manifestMediaType?: string } = {}): TinyImage {
  const layer = options.layer ?? Buffer.from(`layer bytes ${options.architecture ?? 'amd64'} `.repeat(100));
  const layerDigest = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: options.architecture ?? 'amd64',
      os: 'linux',
      ...(options.variant ? { variant: options.variant } : {}),
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [sha256(`diff ${layerDigest}`)] },
    }),
  );
  const configDigest = sha256(config);
  const manifestMediaType = options.manifestMediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestMediaType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: options.layerMediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  return {
    layer,
    layerDigest,
    config,
    configDigest,
    manifest,
    manifestDigest: sha256(manifest),
    manifestMediaType,
    blobs: new Map([
      [layerDigest, layer],
      [configDigest, config],
    ]),
  };
}

/** Serves manifests (by tag or digest) and blobs from maps; anything else 404 with a distribution error body. */
export function serveImages(manifests: Map<string, { bytes: Buffer; mediaType: string }>, blobs: Map<string, Buffer>, repository = 'foo'): Handler {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const m = new RegExp(`^/v2/${repository}/(manifests|blobs)/([^/]+)$`).exec(url.pathname);
    const kind = m?.[1];
    const ref = m?.[2] ?? '';
    if (kind === 'manifests' && manifests.has(ref)) {
      const doc = manifests.get(ref)!;
      res.writeHead(200, { 'Content-Type': doc.mediaType, 'Content-Length': doc.bytes.length, 'Docker-Content-Digest': sha256(doc.bytes) });
      res.end(req.method === 'HEAD' ? undefined : doc.bytes);
      return;
    }
    if (kind === 'blobs' && blobs.has(ref)) {
      const bytes = blobs.get(ref)!;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    const code = kind === 'blobs' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN';
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code, message: `${kind} unknown` }] }));
  };
}

export function imageMaps(image: TinyImage, tag = 'latest'): { manifests: Map<string, { bytes: Buffer; mediaType: string }>; blobs: Map<string, Buffer> } {
  const doc = { bytes: image.manifest, mediaType: image.manifestMediaType };
  return {
    manifests: new Map([
      [tag, doc],
      [image.manifestDigest, doc],
    ]),
    blobs: new Map(image.blobs),
  };
}

/** Reads a stream to a Buffer (rejects with the stream's error). */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** Fast retries for tests. */
export const fastRetry = { tries: 3, baseDelayMs: 5, maxDelayMs: 20, retryAfterCapMs: 2_000, stallTimeoutMs: 2_000, requestTimeoutMs: 5_000 };

/**
 * A fake server answering `/v2/` itself and everything else through `handler`, and a
 * RegistrySource for 127.0.0.1:PORT/foo:latest on it with fast retries and no credentials.
 * The server stops when the test ends.
 */
export async function fakeRegistrySource(t: ExecutionContext, handler: Handler, retry: Partial<RetryOptions> = {}) {
  const server = await startFakeServer((req, res, body) => {
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    return handler(req, res, body);
  });
  t.teardown(() => server.stop());
  const source = new RegistrySource({
    reference: { registry: server.host, repository: 'foo', tag: 'latest' },
    conf: defaultRegistriesConf(),
    retry: { ...fastRetry, ...retry },
    tokenCache: new TokenCache(),
    authFile: '/nonexistent/auth.json',
  });
  return { server, source };
}
