// A throwaway token server for docker-registry's `auth: token` mode, on 127.0.0.1. It signs
// RS256 JWTs with a fresh RSA key whose self-signed certificate (made with the openssl CLI)
// is the registry's rootcertbundle; the chain travels in the JWT header as `x5c`.
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TokenIssuer {
  /** `http://127.0.0.1:PORT/token` */
  realm: string;
  service: string;
  issuer: string;
  /** PEM file for the registry's `rootcertbundle`. */
  certFile: string;
  /** Token requests seen, with the user that authenticated (undefined = anonymous). */
  requests: { scopes: string[]; account: string | undefined }[];
  stop(): Promise<void>;
}

export interface TokenIssuerOptions {
  /** Directory for the key and certificate (the caller removes it). */
  dir: string;
  /** user → password; requests with other Basic credentials get 401. */
  users: Record<string, string>;
  /** Grant `pull` to anonymous requests (default: grant nothing). */
  anonymousPull?: boolean;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const keyFile = join(options.dir, 'token.key');
  const certFile = join(options.dir, 'token.crt');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', '/CN=syscontainer-test-token-issuer', '-keyout', keyFile, '-out', certFile,
  ]);
  const key = createPrivateKey(await readFile(keyFile));
  const certDer = new X509Certificate(await readFile(certFile)).raw;
  const service = 'syscontainer-test-registry';
  const issuer = 'syscontainer-test-issuer';
  const expiresIn = options.expiresIn ?? 300;
  const requests: TokenIssuer['requests'] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') return void res.writeHead(404).end();
    let account: string | undefined;
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString();
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      if (colon < 0 || !authorization.startsWith('Basic ') || options.users[user] !== decoded.slice(colon + 1)) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        return void res.end('{"details":"invalid credentials"}');
      }
      account = user;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push({ scopes, account });
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !actions) return [];
      const granted = account !== undefined ? actions.split(',') : options.anonymousPull ? actions.split(',').filter((a) => a === 'pull') : [];
      return granted.length > 0 ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: account ?? '',
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
