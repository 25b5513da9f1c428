// A small HTTP client for the REST service's tests: requests over the unix socket or TCP,
// answers as {status, headers, body, json}. Raw requests too, for what no well-behaved client sends.
import http from 'node:http';
import net from 'node:net';

export interface ApiTarget {
  socketPath?: string;
  host?: string;
  port?: number;
}

export interface ApiAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

export function apiRequest(target: ApiTarget, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    const req = http.request(
      {
        ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : { host: target.host ?? '127.0.0.1', port: target.port }),
        method,
        path,
        headers: { ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}), ...(options.headers ?? {}) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Sends `raw` bytes as they are and returns whatever comes back until the server closes or `ms` pass. */
export function rawExchange(target: ApiTarget, raw: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = target.socketPath !== undefined ? net.connect(target.socketPath) : net.connect(target.port ?? 0, target.host ?? '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(error);
    });
    socket.write(raw);
  });
}
