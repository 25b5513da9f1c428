// Who is asking. On a unix socket the socket's permissions are the authentication (as with
// docker and podman): the caller is an admin, and a project header, if sent, only says which
// project a new container belongs to. On TCP every request needs a token (X-Auth-Token or
// Authorization: Bearer) and a project (X-Auth-Project-Id): either missing, or an unknown,
// revoked or expired token, is a 401; a token used for a project it does not grant is a 403.
// A token sent on the unix socket is checked the same way and then scopes the caller.
import type { IncomingHttpHeaders } from 'node:http';
import { isValidProjectName, type Caller, type TokenStore } from '../app/index.js';
import { HttpError } from './http-error.js';

/** The caller (app/tenancy.ts says what it may see and do), and how it authenticated. */
export interface Principal extends Caller {
  via: 'socket' | 'token';
}

export type ListenerKind = 'unix' | 'tcp';

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new HttpError(400, `header ${name} given more than once`);
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const token = single(headers, 'x-auth-token');
  const authorization = single(headers, 'authorization');
  const bearer = authorization === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (authorization !== undefined && bearer === undefined && token === undefined) throw new HttpError(401, 'Authorization: only a Bearer token is accepted');
  if (token !== undefined && bearer !== undefined && token !== bearer) throw new HttpError(400, 'X-Auth-Token and Authorization: Bearer name different tokens');
  return token ?? bearer;
}

const challenge = { 'WWW-Authenticate': 'Bearer realm="syscontainer"' };

export async function authenticate(headers: IncomingHttpHeaders, kind: ListenerKind, tokens: TokenStore): Promise<Principal> {
  const token = presentedToken(headers);
  const project = single(headers, 'x-auth-project-id');
  if (project !== undefined && !isValidProjectName(project)) throw new HttpError(400, 'X-Auth-Project-Id: expected 1-64 characters of [A-Za-z0-9_.-]');
  if (token === undefined) {
    if (kind === 'unix') return { project, admin: true, via: 'socket' };
    throw new HttpError(401, 'authentication required: send X-Auth-Token (or Authorization: Bearer) and X-Auth-Project-Id', challenge);
  }
  // Bounded before hashing: a token is 47 characters.
  const grant = token.length > 256 ? undefined : await tokens.verify(token);
  if (grant === undefined) throw new HttpError(401, 'token is not valid (unknown, revoked or expired)', challenge);
  if (project === undefined) throw new HttpError(401, 'X-Auth-Project-Id is required with a token');
  if (!grant.admin && grant.project !== project) throw new HttpError(403, `this token does not grant project ${project}`);
  return { project, admin: grant.admin, via: 'token' };
}
