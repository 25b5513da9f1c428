// The request pipeline, the same for every listener: common headers, authentication, the
// body (read whole, limited, before anything is done), the route, and errors as
// {"message": …} with their status. A route never sees a request it may not serve.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { apiVersion } from './api-version.js';
import { authenticate, type ListenerKind, type Principal } from './auth.js';
import { describeError, HttpError } from './http-error.js';
import type { ListenerHandlers } from './listeners.js';
import { Reply } from './reply.js';
import { readRequestBody, readUpgradeBody } from './request-body.js';
import type { Router } from './router.js';
import type { ApiServices } from './services.js';

export interface RouteCall {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  principal: Principal;
  body: Buffer;
  reply: Reply;
  services: ApiServices;
}

export type RouteHandler = (call: RouteCall) => Promise<void>;

function commonHeaders(version: string): Record<string, string> {
  return {
    'Api-Version': apiVersion,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `syscontainer/${version} (linux)`,
  };
}

function fail(reply: Reply, error: unknown, log: (line: string) => void, req: IncomingMessage): void {
  const { status, message, headers } = describeError(error);
  if (status >= 500) log(`${req.method} ${(req.url ?? '').slice(0, 200)}: ${status} ${message}`);
  if (reply.headersSent) {
    // A stream already under way: nothing sensible can be said any more.
    reply.destroy();
    return;
  }
  reply.json(status, { message }, headers);
}

export function requestHandlers(router: Router<RouteHandler>, services: ApiServices): ListenerHandlers {
  const headers = commonHeaders(services.version);
  async function dispatch(kind: ListenerKind, req: IncomingMessage, reply: Reply, body: () => Promise<Buffer>): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://syscontainer');
      // Authentication before anything else: an unauthenticated caller learns nothing, not even which paths exist.
      const principal = await authenticate(req.headers, kind, services.tokens);
      const match = router.match(req.method ?? 'GET', url.pathname);
      if ('error' in match) {
        if (match.error === 'method') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`, { Allow: match.allowed.join(', ') });
        if (match.error === 'bad-path') throw new HttpError(400, 'the path does not decode');
        throw new HttpError(404, `page not found: ${url.pathname.slice(0, 200)}`);
      }
      await match.handler({ req, params: match.params, query: url.searchParams, principal, body: await body(), reply, services });
    } catch (error) {
      fail(reply, error, services.log, req);
    }
  }
  return {
    request(kind: ListenerKind, req: IncomingMessage, res: ServerResponse) {
      const reply = new Reply(req, { res }, headers);
      void dispatch(kind, req, reply, () => readRequestBody(req));
    },
    upgrade(kind: ListenerKind, req: IncomingMessage, socket: Socket, head: Buffer) {
      socket.on('error', () => socket.destroy());
      const target = { socket: socket as Socket, head };
      const reply = new Reply(req, target, headers);
      void dispatch(kind, req, reply, async () => {
        const { body, rest } = await readUpgradeBody(req, socket, head);
        target.head = rest;
        return body;
      });
    },
  };
}
