// The token step of the distribution auth flow: GET REALM?service=&scope=…[&account=] with
// Basic credentials when we have them, answer `{token|access_token, expires_in}`.
// Transport, retries and the cache are the caller's (registry-client.ts).
import type { Credentials } from './auth-file.js';
import { RegistryError } from '../../common/errors.js';
import { errorFromResponse, oneLine } from './errors-from-response.js';
import { isLoopbackHost } from './hosts.js';
import type { HttpResponse } from './http.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface BearerTokenRequest {
  registry: string;
  realm: string;
  service?: string;
  scopes: readonly string[];
  credentials?: Credentials;
  /** Insecure/loopback registries may send credentials to a plain-HTTP realm. */
  allowPlainHttpCredentials: boolean;
  retry: RetryOptions;
  send(url: URL, headers: Record<string, string>, subject: string): Promise<HttpResponse>;
  readBody(response: HttpResponse, max: number, subject: string, what: string): Promise<Buffer>;
}

/** Default lifetime when the server does not say (distribution token spec: 60 s). */
export const defaultTokenLifetimeSeconds = 60;
const tokenResponseLimit = 1024 * 1024;

export function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** A token for the scopes. 401/403 from the token server is EAUTH naming the registry (and user). */
export async function fetchBearerToken(request: BearerTokenRequest): Promise<{ token: string; expiresIn: number }> {
  const { registry, realm, service, scopes, credentials } = request;
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new RegistryError('EAUTH', `registry ${registry}: token realm "${oneLine(realm, 100)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryError('EAUTH', `registry ${registry}: token realm has unsupported scheme ${oneLine(url.protocol, 20)}`);
  }
  if (url.protocol === 'http:' && credentials !== undefined && !request.allowPlainHttpCredentials && !isLoopbackHost(url.host)) {
    // Never send a password in clear text to the realm of a registry we reach over TLS.
    throw new RegistryError('EAUTH', `registry ${registry}: refusing to send credentials to plain-HTTP token realm ${url.host}`);
  }
  if (service !== undefined) url.searchParams.set('service', service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  if (credentials) url.searchParams.set('account', credentials.username);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (credentials) headers['Authorization'] = basicHeader(credentials);
  const subject = `registry ${registry}`;

  const bytes = await withRetry(registry, request.retry, async () => {
    const response = await request.send(url, headers, subject);
    if (response.status === 401 || response.status === 403) {
      response.body.resume();
      if (credentials) {
        throw new RegistryError('EAUTH', `registry ${registry}: credentials for user "${oneLine(credentials.username, 64)}" were rejected by the token server (${response.status})`, {
          status: response.status,
          hint: `run syscontainer login ${registry}`,
        });
      }
      throw new RegistryError('EAUTH', `registry ${registry}: authentication required (${response.status}); run syscontainer login ${registry}`, {
        status: response.status,
      });
    }
    if (response.status !== 200) throw await errorFromResponse(response, { registry, subject: `${subject}: token server` });
    return request.readBody(response, tokenResponseLimit, subject, 'token response');
  });
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch (error) {
    throw new RegistryError('EAUTH', `registry ${registry}: token server answered with invalid JSON`, { cause: error });
  }
  const token = typeof doc.token === 'string' && doc.token !== '' ? doc.token : doc.access_token;
  if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
    throw new RegistryError('EAUTH', `registry ${registry}: token server answered without a token`);
  }
  const expiresIn =
    typeof doc.expires_in === 'number' && Number.isFinite(doc.expires_in) && doc.expires_in > 0 ? doc.expires_in : defaultTokenLifetimeSeconds;
  return { token, expiresIn };
}
