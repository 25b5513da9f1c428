// TCP and HTTP probes, made from outside the container as the kubelet makes Kubernetes'
// tcpSocket and httpGet probes: the image needs no curl or nc. This process must already be
// in the container's network namespace (run-health-check.ts starts the light entry under
// `nsenter --net` for a container that has one of its own). node:net and node:http(s) are
// loaded on first use: a command check never pays for them.

export interface ProbeResult {
  ok: boolean;
  /** What happened, in one line: "connected to 127.0.0.1:80", "HTTP 503 from http://…". */
  output: string;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Connects to HOST:PORT; ok when the connection is accepted within `timeoutMs`. Never rejects. */
async function probeTcp(target: string, timeoutMs: number): Promise<ProbeResult> {
  const { connect } = await import('node:net');
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, output: `no connection to ${target} within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ ok: true, output: `connected to ${target}` }));
    socket.once('error', (error) => done({ ok: false, output: `cannot connect to ${target}: ${message(error)}` }));
  });
}

/**
 * GETs `url`; ok on a status of 200-399 (Kubernetes' rule; redirects are not followed). As the
 * kubelet does, an https probe does not verify the certificate: it asks whether the service
 * answers, over the container's own loopback or address, not whom it talks to.
 */
async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const parsed = new URL(url);
  const { request } = parsed.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(result);
    };
    const req = request(parsed, { method: 'GET', headers: { 'User-Agent': 'syscontainer-healthcheck' }, rejectUnauthorized: false }, (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      done({ ok: status >= 200 && status < 400, output: `HTTP ${status} from ${url}` });
    });
    req.setTimeout(timeoutMs, () => done({ ok: false, output: `no answer from ${url} within ${timeoutMs} ms` }));
    req.once('error', (error) => done({ ok: false, output: `GET ${url}: ${message(error)}` }));
    req.end();
  });
}

/** Runs one probe. Never rejects: a failure is a result. */
export function runProbe(protocol: 'TCP' | 'HTTP', target: string, timeoutMs: number): Promise<ProbeResult> {
  return protocol === 'TCP' ? probeTcp(target, timeoutMs) : probeHttp(target, timeoutMs);
}
