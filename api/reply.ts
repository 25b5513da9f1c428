// How a route answers. One request comes in two ways: a plain request (a ServerResponse to
// write) or an upgrade request (attach and exec start send `Connection: Upgrade`, and node
// hands over the raw socket). Reply hides which: json(), stream() and, for the hijacked
// routes, hijack(), which answers 101 on an upgrade request and 200 with a raw stream otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HijackedStream {
  /** Output towards the client. */
  write(chunk: Uint8Array): boolean;
  end(): void;
  /** Input from the client (stdin of attach/exec), already past the request's head. */
  onData(listener: (chunk: Buffer) => void): void;
  /** Once: the client finished sending (its half-close) or went, the end of stdin. */
  onEnd(listener: () => void): void;
}

function safeHeaderValue(value: string): string {
  // Values we set never come from a request unfiltered; this is the backstop against injection.
  return value.replace(/[\r\n\0]/g, ' ');
}

export class Reply {
  private sent = false;
  readonly closed: AbortSignal;
  private readonly abort = new AbortController();

  constructor(
    private readonly req: IncomingMessage,
    private readonly target: { res: ServerResponse } | { socket: Duplex; head: Buffer },
    private readonly commonHeaders: Record<string, string>,
  ) {
    this.closed = this.abort.signal;
    const socket = 'res' in target ? target.res.socket : target.socket;
    const onClose = () => this.abort.abort();
    if ('res' in target) target.res.once('close', onClose);
    else socket?.once('close', onClose);
  }

  get isUpgrade(): boolean {
    return 'socket' in this.target;
  }

  get headersSent(): boolean {
    return this.sent;
  }

  private head(status: number, headers: Record<string, string>): void {
    this.sent = true;
    const all = { ...this.commonHeaders, ...headers };
    if ('res' in this.target) {
      for (const [name, value] of Object.entries(all)) this.target.res.setHeader(name, safeHeaderValue(value));
      this.target.res.statusCode = status;
      return;
    }
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, ...Object.entries(all).map(([n, v]) => `${n}: ${safeHeaderValue(v)}`)];
    this.target.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  /** A whole answer with a body (or none for HEAD and 204/304). */
  send(status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
    if (this.sent) return;
    const noBody = this.req.method === 'HEAD' || status === 204 || status === 304;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.head(status, { ...headers, ...(noBody && status !== 200 ? {} : { 'Content-Length': String(bytes.length) }), ...('socket' in this.target ? { Connection: 'close' } : {}) });
    if ('res' in this.target) this.target.res.end(noBody ? undefined : bytes);
    else this.target.socket.end(noBody ? undefined : bytes);
  }

  json(status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(status, `${JSON.stringify(value)}\n`, { 'Content-Type': 'application/json', ...headers });
  }

  noContent(status = 204): void {
    this.send(status, '');
  }

  /** Headers now (flushed: docker's run waits for the wait's headers before it starts), body as it comes. */
  stream(status: number, contentType: string): { write(chunk: string | Uint8Array): void; end(chunk?: string | Uint8Array): void } {
    this.head(status, { 'Content-Type': contentType, ...('socket' in this.target ? { Connection: 'close' } : {}) });
    if ('res' in this.target) {
      const res = this.target.res;
      res.flushHeaders();
      return {
        write: (chunk) => void (res.writableEnded ? undefined : res.write(chunk)),
        end: (chunk) => void (res.writableEnded ? undefined : res.end(chunk)),
      };
    }
    const socket = this.target.socket;
    return {
      write: (chunk) => void (socket.writableEnded ? undefined : socket.write(chunk)),
      end: (chunk) => void (socket.writableEnded ? undefined : socket.end(chunk)),
    };
  }

  /** The raw two-way stream of attach and exec start. */
  hijack(contentType: string): HijackedStream {
    if ('socket' in this.target) {
      const { socket, head } = this.target;
      this.head(101, { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' });
      return {
        write: (chunk) => (socket.writableEnded ? false : socket.write(chunk)),
        end: () => socket.end(),
        onData: (listener) => {
          if (head.length > 0) queueMicrotask(() => listener(head));
          socket.on('data', listener);
          // Reading the body may have paused it; a paused stream ignores a new listener.
          socket.resume();
        },
        onEnd: (listener) => {
          let done = false;
          const once = () => {
            if (!done) (done = true), listener();
          };
          socket.once('end', once);
          socket.once('close', once);
        },
      };
    }
    const res = this.target.res;
    this.head(200, { 'Content-Type': contentType });
    res.flushHeaders();
    return {
      write: (chunk) => (res.writableEnded ? false : res.write(chunk)),
      end: () => res.end(),
      onData: (listener) => this.req.on('data', listener),
      onEnd: (listener) => this.req.once('end', listener),
    };
  }

  /** Ends the connection after a hijacked stream or a stream whose peer is gone. */
  destroy(): void {
    if ('res' in this.target) this.target.res.destroy();
    else this.target.socket.destroy();
  }
}
