// A misbehaving HTTP proxy on 127.0.0.1 in front of a real registry: for each request a
// `decide` function picks a fault (reset, stall, drip, wrong length, another blob, redirect
// loop, endless body, an error status) or passes it through. Every request is logged, so a
// test asserts what the client did (retried, resumed with Range, waited out Retry-After)
// rather than how long it took. stop() closes every connection.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultAction =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Sends the headers and `fraction` of the body, then resets the connection. */
  | { kind: 'reset'; fraction: number }
  /** Sends the headers and `fraction` of the body, then nothing, keeping the connection open. */
  | { kind: 'stall'; fraction: number }
  /** The whole body in `chunk`-byte pieces every `intervalMs`. */
  | { kind: 'drip'; chunk: number; intervalMs: number }
  /** Declares `extra` more bytes than the body has, sends the body, closes. */
  | { kind: 'wrong-length'; extra: number }
  /** Answers with the upstream response for another path. */
  | { kind: 'substitute'; path: string }
  /** 307 to the same URL, forever. */
  | { kind: 'redirect-loop' }
  /** 200 with this body instead of upstream's. */
  | { kind: 'replace'; body: Buffer; contentType: string }
  /** 200 and an endless chunked body of `byte`s. */
  | { kind: 'endless'; contentType?: string };

export interface ProxyRequest {
  method: string;
  path: string;
  /** 1 for the first request of this method+path, 2 for the second… */
  count: number;
}

export interface ProxyLogEntry extends ProxyRequest {
  /** What the proxy did with it. */
  action: FaultAction['kind'];
  /** The request's Range header, if any (a resumed download sends `bytes=N-`). */
  range: string | undefined;
  /** When it arrived (Date.now()). */
  at: number;
}

export interface FaultProxy {
  host: string;
  /** Requests answered with a fault (anything but pass). */
  faults: number;
  requests: number;
  /** Every request, in arrival order. */
  log: readonly ProxyLogEntry[];
  /** The logged requests of `method` `path`, in order. */
  requestsOf(method: string, path: string): ProxyLogEntry[];
  stop(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function fetchUpstream(upstream: string, req: IncomingMessage, path: string): Promise<Upstream> {
  const [hostname, port] = upstream.split(':');
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: upstream };
    delete headers['accept-encoding'];
    const out = http.request({ hostname, port: Number(port), method: req.method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    out.on('error', reject);
    out.end();
  });
}

function copyHeaders(headers: http.IncomingHttpHeaders, length?: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || key === 'transfer-encoding' || key === 'connection' || key === 'keep-alive') continue;
    out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (length !== undefined) out['content-length'] = String(length);
  return out;
}

export async function startFaultProxy(upstream: string, decide: (req: ProxyRequest) => FaultAction): Promise<FaultProxy> {
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { faults: 0, requests: 0, stopped: false };
  const log: ProxyLogEntry[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url ?? '/';
    const key = `${req.method} ${new URL(path, 'http://x').pathname}`;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    state.requests++;
    const request = { method: req.method ?? 'GET', path: new URL(path, 'http://x').pathname, count };
    const action = decide(request);
    log.push({ ...request, action: action.kind, range: req.headers.range, at: Date.now() });
    if (action.kind !== 'pass') state.faults++;
    switch (action.kind) {
      case 'status':
        res.writeHead(action.status, { 'content-type': 'application/json', ...(action.headers ?? {}) });
        res.end(action.body ?? `{"errors":[{"code":"UNAVAILABLE","message":"injected ${action.status}"}]}`);
        return;
      case 'replace':
        res.writeHead(200, { 'content-type': action.contentType, 'content-length': String(action.body.length) });
        res.end(req.method === 'HEAD' ? undefined : action.body);
        return;
      case 'redirect-loop':
        res.writeHead(307, { location: path, 'content-length': '0' }).end();
        return;
      case 'endless': {
        res.writeHead(200, { 'content-type': action.contentType ?? 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 0x7b);
        const pump = () => {
          while (!state.stopped && !res.destroyed && res.write(chunk));
          if (!state.stopped && !res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
        return;
      }
      default:
        break;
    }
    const up = await fetchUpstream(upstream, req, action.kind === 'substitute' ? action.path : path);
    const head = req.method === 'HEAD';
    switch (action.kind) {
      case 'pass':
      case 'substitute':
        res.writeHead(up.status, copyHeaders(up.headers, head ? undefined : up.body.length));
        res.end(head ? undefined : up.body);
        return;
      case 'reset':
      case 'stall': {
        res.writeHead(up.status, copyHeaders(up.headers, up.body.length));
        res.write(up.body.subarray(0, Math.floor(up.body.length * action.fraction)), () => {
          if (action.kind === 'reset') res.socket?.destroy();
        });
        return;
      }
      case 'drip': {
        res.writeHead(up.status, copyHeaders(up.headers, up.body.length));
        let offset = 0;
        const next = () => {
          if (state.stopped || res.destroyed) return;
          res.write(up.body.subarray(offset, offset + action.chunk));
          offset += action.chunk;
          if (offset >= up.body.length) return void res.end();
          const timer = setTimeout(() => (timers.delete(timer), next()), action.intervalMs);
          timers.add(timer);
        };
        next();
        return;
      }
      case 'wrong-length':
        res.writeHead(up.status, copyHeaders(up.headers, up.body.length + action.extra));
        res.write(up.body, () => res.socket?.destroy());
        return;
    }
  };

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    get faults() {
      return state.faults;
    },
    get requests() {
      return state.requests;
    },
    log,
    requestsOf: (method, path) => log.filter((entry) => entry.method === method && entry.path === path),
    stop: async () => {
      state.stopped = true;
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
