// Opens the service's sockets: unix sockets (mode 0660, the directory 0750), TCP (HTTPS with
// a certificate), and the sockets systemd passes on socket activation (LISTEN_PID/LISTEN_FDS,
// first at fd 3). What kind a passed socket is, is read from the socket itself once listening
// (a unix socket's address is its path), since tokens are required on TCP only.
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import path from 'node:path';
import { SyscontainerError } from '../app/index.js';
import type { ListenerKind } from './auth.js';
import { formatListenAddress, isLoopback, type ListenAddress } from './listen-address.js';

export interface ListenerOptions {
  addresses: readonly ListenAddress[];
  tls?: { certFile: string; keyFile: string };
  /** Take the sockets systemd passed (LISTEN_FDS) instead of, or besides, `addresses`. */
  env?: NodeJS.ProcessEnv;
  /** Most connections per listener at once; more are refused by the kernel's backlog. */
  maxConnections?: number;
}

export interface OpenListener {
  kind: ListenerKind;
  /** unix:PATH or tcp:HOST:PORT (the port actually bound). */
  address: string;
  server: http.Server;
  close(): Promise<void>;
}

export type ListenerHandlers = {
  request: (kind: ListenerKind, req: http.IncomingMessage, res: http.ServerResponse) => void;
  upgrade: (kind: ListenerKind, req: http.IncomingMessage, socket: Socket, head: Buffer) => void;
};

/** File descriptors systemd passed to this process, or none. */
export function activationFds(env: NodeJS.ProcessEnv = process.env): number[] {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== process.pid) return [];
  const count = Number(env.LISTEN_FDS ?? '0');
  if (!Number.isInteger(count) || count < 1 || count > 16) return [];
  return Array.from({ length: count }, (_, i) => 3 + i);
}

async function listen(server: http.Server, target: { path: string } | { host: string; port: number } | { fd: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A stale socket file from a killed service is removed; a live one (something answers) is not. */
async function clearStaleSocket(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isSocket()) throw new SyscontainerError('EEXIST', `${file} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = http.get({ socketPath: file, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
    probe.on('timeout', () => probe.destroy());
  });
  if (alive) throw new SyscontainerError('EEXIST', `another service already listens on ${file}`);
  await rm(file, { force: true });
}

function makeServer(kind: ListenerKind | 'pending', handlers: ListenerHandlers, tls: { cert: Buffer; key: Buffer } | undefined, maxConnections: number) {
  const options: http.ServerOptions = { requestTimeout: 0, headersTimeout: 20_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 };
  const server = tls === undefined ? http.createServer(options) : https.createServer({ ...options, cert: tls.cert, key: tls.key });
  server.maxConnections = maxConnections;
  // Streams (logs -f, events, attach) run for as long as the client wants.
  server.timeout = 0;
  const state = { kind };
  server.on('request', (req, res) => handlers.request(state.kind as ListenerKind, req, res));
  server.on('upgrade', (req, socket: Socket, head: Buffer) => handlers.upgrade(state.kind as ListenerKind, req, socket, head));
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"malformed HTTP request"}\n');
    else socket.destroy();
  });
  return { server, state };
}

function closer(server: http.Server, cleanup: () => Promise<void>): () => Promise<void> {
  return async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await cleanup();
  };
}

export async function openListeners(options: ListenerOptions, handlers: ListenerHandlers): Promise<OpenListener[]> {
  const tls = options.tls === undefined ? undefined : { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) };
  const maxConnections = options.maxConnections ?? 2048;
  const opened: OpenListener[] = [];
  try {
    for (const fd of activationFds(options.env)) {
      const { server, state } = makeServer('pending', handlers, undefined, maxConnections);
      await listen(server, { fd });
      // A TCP socket has a port; a unix one has its path, or nothing node can read when passed by fd.
      const bound = server.address();
      const tcp = typeof bound === 'object' && bound !== null && typeof bound.port === 'number' ? bound : undefined;
      state.kind = tcp === undefined ? 'unix' : 'tcp';
      if (tcp !== undefined && !isLoopback(tcp.address)) {
        throw new SyscontainerError('EUSAGE', `socket-activated listener on ${tcp.address} is not loopback: the service takes TLS listeners only with --listen and --tls-cert/--tls-key`);
      }
      const address = tcp !== undefined ? `tcp:${tcp.address}:${tcp.port}` : `unix:${typeof bound === 'string' ? bound : `(fd ${fd} from systemd)`}`;
      opened.push({ kind: state.kind, address, server, close: closer(server, async () => undefined) });
    }
    for (const address of options.addresses) {
      if (address.kind === 'tcp' && !isLoopback(address.host) && tls === undefined) {
        throw new SyscontainerError('EUSAGE', `--listen ${formatListenAddress(address)}: a non-loopback address needs --tls-cert and --tls-key`);
      }
      if (address.kind === 'unix') {
        await mkdir(path.dirname(address.path), { recursive: true, mode: 0o750 });
        await clearStaleSocket(address.path);
        const { server } = makeServer('unix', handlers, undefined, maxConnections);
        await listen(server, { path: address.path });
        // Socket permissions are the authentication here: owner and group only.
        await chmod(address.path, 0o660);
        opened.push({ kind: 'unix', address: formatListenAddress(address), server, close: closer(server, () => rm(address.path, { force: true })) });
      } else {
        const { server } = makeServer('tcp', handlers, tls, maxConnections);
        await listen(server, { host: address.host, port: address.port });
        const bound = server.address();
        const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
        opened.push({ kind: 'tcp', address: formatListenAddress({ ...address, port }), server, close: closer(server, async () => undefined) });
      }
    }
    if (opened.length === 0) throw new SyscontainerError('EUSAGE', 'nothing to listen on');
    return opened;
  } catch (error) {
    for (const listener of opened) await listener.close().catch(() => undefined);
    if (error instanceof SyscontainerError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SyscontainerError('EINVAL', `cannot listen: ${(error as Error).message}${code === 'EADDRINUSE' ? ' (address in use)' : ''}`, { cause: error });
  }
}
