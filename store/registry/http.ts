// The one module that puts bytes on the wire (node-fetch). One request, no redirects followed,
// no retries, no decompression: policy lives in registry-client.ts, so it reads the same for
// every request and tests can reason about exactly one place. Connection failures come out as
// a retryable RegistryError('ENETWORK') naming the host.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { RequestInit } from 'node-fetch';
import { RegistryError } from '../../common/errors.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  /** A Readable is sent chunked unless headers give Content-Length; it can be sent only once. */
  body?: Buffer | Readable;
  /** Skip TLS certificate verification (insecure registries). */
  insecureTls?: boolean;
  /** Abort when the response headers have not arrived after this long. */
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  url: URL;
  header(name: string): string | undefined;
  /** The raw body. The caller consumes or destroys it (destroying closes the connection). */
  body: Readable;
}

const userAgent = 'syscontainer/0.1';

/** OpenSSL/Node verification failures: the peer answered, but we do not trust it. */
const tlsVerificationCodes = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);
const certsDirs = ['/etc/containers/certs.d', '/etc/docker/certs.d'];

interface TlsFiles {
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Per-host TLS material in the podman/docker layout: `certs.d/HOST[:PORT]/*.crt` are extra CAs,
 * `*.cert` + `*.key` a client certificate. Read once per host.
 */
function tlsFilesFor(host: string): TlsFiles {
  const files: TlsFiles = {};
  for (const base of certsDirs) {
    const dir = join(base, host);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith('.crt')) (files.ca ??= [...rootCertificates]).push(readFileSync(path, 'utf8'));
      else if (name.endsWith('.cert')) {
        const key = join(dir, `${name.slice(0, -'.cert'.length)}.key`);
        files.cert = readFileSync(path);
        files.key = readFileSync(key);
      }
    }
  }
  return files;
}

const agents = new Map<string, http.Agent>();

function agentFor(url: URL, insecureTls: boolean): http.Agent {
  const key = `${url.protocol}//${url.host}|${insecureTls}`;
  let agent = agents.get(key);
  if (agent === undefined) {
    agent =
      url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, rejectUnauthorized: !insecureTls, ...tlsFilesFor(url.host) })
        : new http.Agent({ keepAlive: true });
    agents.set(key, agent);
  }
  return agent;
}

/** Network error codes worth another try. */
export function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; errno?: string; type?: string; name?: string; message?: string; cause?: unknown };
  if (e?.name === 'AbortError' || e?.type === 'aborted') return 'timed out';
  const code = e?.code ?? e?.errno;
  if (typeof code === 'string' && code !== '' && code !== 'ERR_STREAM_PREMATURE_CLOSE') return code;
  return (e?.message ?? String(error)).split('\n')[0] ?? 'connection failed';
}

/** Sends one request. Resolves with any HTTP status; rejects only when there is no response. */
export async function sendHttp(request: HttpRequest): Promise<HttpResponse> {
  const controller = new AbortController();
  // The wait for response headers starts once the body is sent: a large upload may take
  // far longer than any header timeout. Large Buffers go as streams so their end is visible.
  let body = request.body;
  if (Buffer.isBuffer(body) && body.length > 1024 * 1024) body = Readable.from([body]);
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const startTimer = (): void => {
    if (!settled) timer = setTimeout(() => controller.abort(), request.timeoutMs);
  };
  if (body instanceof Readable) body.once('end', startTimer);
  else startTimer();
  const init: RequestInit = {
    method: request.method,
    headers: { 'User-Agent': userAgent, ...request.headers },
    redirect: 'manual',
    compress: false,
    signal: controller.signal as RequestInit['signal'],
    agent: agentFor(request.url, request.insecureTls ?? false),
    highWaterMark: 1024 * 1024,
  };
  if (body !== undefined) init.body = body;
  try {
    // node-fetch is loaded by the first request, not at every command's start.
    const { default: fetch } = await import('node-fetch');
    const response = await fetch(request.url.href, init);
    settled = true;
    clearTimeout(timer);
    const responseBody = response.body as unknown as Readable | null;
    return {
      status: response.status,
      statusText: response.statusText,
      url: request.url,
      header: (name) => response.headers.get(name) ?? undefined,
      body: responseBody ?? emptyReadable(),
    };
  } catch (error) {
    settled = true;
    clearTimeout(timer);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && tlsVerificationCodes.has(code)) {
      // Not transient: retrying cannot make the certificate trusted.
      throw new RegistryError('ENETWORK', `registry ${request.url.host}: TLS certificate not trusted (${code})`, {
        retryable: false,
        hint: `add its CA as /etc/containers/certs.d/${request.url.host}/ca.crt, or mark it insecure = true in registries.conf`,
        cause: error,
      });
    }
    throw new RegistryError('ENETWORK', `registry ${request.url.host}: ${request.method} ${request.url.pathname} failed: ${describeNetworkError(error)}`, {
      retryable: true,
      cause: error,
    });
  }
}

function emptyReadable(): Readable {
  return Readable.from([]);
}

/** Closes idle keep-alive connections (tests call this so servers can stop at once). */
export function closeIdleConnections(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}
