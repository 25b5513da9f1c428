// One registry host, spoken to over the distribution API: which scheme it answers on, how it
// wants us to authenticate (ping of /v2/ and its WWW-Authenticate challenge), Bearer tokens
// and Basic credentials, redirects (Authorization dropped when the host changes), retries
// with backoff, and one error shape for every failure.
import { Readable } from 'node:stream';
import { readCredentials, type Credentials } from './auth-file.js';
import { RegistryError } from '../../common/errors.js';
import { preferredChallenge, type AuthChallenge } from './auth-challenge.js';
import { basicHeader, fetchBearerToken } from './bearer-token.js';
import { errorFromResponse, oneLine, readErrorBody } from './errors-from-response.js';
import { endpointHost, isLoopbackHost } from './hosts.js';
import { sendHttp, type HttpRequest, type HttpResponse } from './http.js';
import { readSmallBody } from './read-body.js';
import { retryOptions, withRetry, type RetryOptions } from './retry.js';
import { sharedTokenCache, TokenCache } from './token-cache.js';

export { endpointHost, isLoopbackHost };

export interface RegistryClientOptions {
  /** Host[:port] as written in references ("docker.io", "127.0.0.1:5000"). */
  registry: string;
  /** registries.conf `insecure = true`: plain HTTP allowed and TLS not verified. */
  insecure?: boolean;
  /** Credentials to use; when absent they are looked up in the auth files (once, lazily). */
  credentials?: Credentials;
  /** Explicit auth file (`--auth-file`), searched first. */
  authFile?: string;
  /** Never read auth files (login verifies exactly the credentials it was given). */
  noAuthFileLookup?: boolean;
  retry?: Partial<RetryOptions>;
  tokenCache?: TokenCache;
}

export interface ClientRequest {
  method: HttpRequest['method'];
  /** `/v2/...` path (with query), or an absolute/relative URL such as an upload Location. */
  path: string;
  /** Bearer scopes, e.g. `repository:foo:pull`. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** A Buffer or a factory can be re-sent on retry; a bare Readable is sent once. */
  body?: Buffer | Readable | (() => Readable);
  /** Statuses handed back to the caller; any other one becomes a RegistryError. */
  expect: readonly number[];
  /** Names the thing asked for in messages: `image 127.0.0.1:5000/foo:latest`. */
  subject: string;
  /** Follow 3xx (GET/HEAD only). Default true for GET and HEAD. */
  followRedirects?: boolean;
  /** Retry on retryable failures. Default true (false when the body is a bare Readable). */
  retry?: boolean;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export class RegistryClient {
  readonly registry: string;
  readonly retry: RetryOptions;
  private readonly insecure: boolean;
  private readonly tokenCache: TokenCache;
  private readonly options: RegistryClientOptions;
  private base: URL | undefined;
  private pinging: Promise<void> | undefined;
  /** null: the registry let us in without credentials. */
  private challenge: AuthChallenge | null | undefined;
  private credentialsLookup: Promise<Credentials | undefined> | undefined;
  private readonly pendingTokens = new Map<string, Promise<string>>();

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.registry = options.registry;
    this.insecure = options.insecure ?? false;
    this.retry = retryOptions(options.retry);
    this.tokenCache = options.tokenCache ?? sharedTokenCache;
  }

  /** Plain HTTP and unverified TLS are allowed for loopback and `insecure` registries only. */
  get allowsInsecure(): boolean {
    return this.insecure || isLoopbackHost(this.registry);
  }

  /** The base URL in use (after ping). */
  get baseUrl(): URL | undefined {
    return this.base;
  }

  credentials(): Promise<Credentials | undefined> {
    if (this.credentialsLookup === undefined) {
      this.credentialsLookup =
        this.options.credentials !== undefined
          ? Promise.resolve(this.options.credentials)
          : this.options.noAuthFileLookup
            ? Promise.resolve(undefined)
            : readCredentials(this.registry, this.options.authFile);
    }
    return this.credentialsLookup;
  }

  /**
   * GET /v2/ once per client: picks the scheme (https; for insecure/loopback registries https
   * without verification, falling back to http when TLS does not connect) and records the
   * authentication challenge. Idempotent.
   */
  ping(): Promise<void> {
    this.pinging ??= this.doPing().catch((error: unknown) => {
      this.pinging = undefined;
      throw error;
    });
    return this.pinging;
  }

  private async doPing(): Promise<void> {
    const host = endpointHost(this.registry);
    const subject = `registry ${this.registry}`;
    // Insecure and loopback registries: https without verification first (one try, so a
    // plain-HTTP server answers the TLS hello with garbage at once), else plain http.
    let base = new URL(`https://${host}`);
    let first: HttpResponse | undefined;
    if (this.allowsInsecure) {
      try {
        first = await this.sendFollowing('GET', new URL('/v2/', base), {}, undefined, true, subject);
      } catch (error) {
        if (!(error instanceof RegistryError && error.code === 'ENETWORK')) throw error;
        base = new URL(`http://${host}`);
      }
    }
    this.base = base;
    const response = await withRetry(this.registry, this.retry, async () => {
      const r = first ?? (await this.sendFollowing('GET', new URL('/v2/', base), {}, undefined, true, subject));
      first = undefined;
      if (r.status >= 500 || r.status === 429) throw await errorFromResponse(r, { registry: this.registry, subject });
      return r;
    });
    const status = response.status;
    if (status === 401) {
      const challenge = preferredChallenge(response.header('www-authenticate'));
      response.body.resume();
      this.challenge = challenge ?? { scheme: 'basic', params: {} };
      return;
    }
    if (status >= 200 && status < 300) {
      response.body.resume();
      this.challenge = null;
      return;
    }
    if (status !== 404) {
      // 403 and friends on /v2/ itself: some registries guard only the root; the requests
      // that follow say what exactly fails.
      response.body.resume();
      this.challenge = null;
      return;
    }
    // No /v2/ at all: not a registry at this address, which is worth a clear word.
    const text = oneLine(await readErrorBody(response), 80);
    throw new RegistryError('EREGISTRY', `registry ${this.registry}: does not speak the registry API v2 (GET /v2/ answered ${status}${text ? `: ${text}` : ''})`, {
      status,
    });
  }

  /** Sends one request, following redirects for GET/HEAD; Authorization never leaves its host. */
  private async sendFollowing(
    method: HttpRequest['method'],
    url: URL,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
    follow: boolean,
    subject: string,
  ): Promise<HttpResponse> {
    let current = url;
    let currentHeaders = headers;
    const origin = url.host;
    for (let hop = 0; ; hop++) {
      const request: HttpRequest = { method, url: current, headers: currentHeaders, timeoutMs: this.retry.requestTimeoutMs };
      if (body !== undefined) request.body = body;
      // Skipping verification applies to the insecure registry itself, never to where it sends us.
      if (this.allowsInsecure && current.host === origin) request.insecureTls = true;
      const response = await sendHttp(request);
      if (!follow || !redirectStatuses.has(response.status)) return response;
      const location = response.header('location');
      if (location === undefined) return response;
      response.body.resume();
      if (hop >= this.retry.maxRedirects) {
        throw new RegistryError('EREGISTRY', `${subject}: too many redirects (more than ${this.retry.maxRedirects})`, { status: response.status });
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new RegistryError('EREGISTRY', `${subject}: redirect to an invalid location`, { status: response.status });
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new RegistryError('EREGISTRY', `${subject}: redirect to unsupported scheme ${oneLine(next.protocol, 20)}`, { status: response.status });
      }
      // Credentials stay with their origin: another host, or a switch to plain HTTP, loses them.
      if (next.host !== current.host || next.protocol !== current.protocol) {
        currentHeaders = Object.fromEntries(Object.entries(currentHeaders).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
      current = next;
    }
  }

  /** The Authorization header for `scopes`, fetching a token when needed; undefined for anonymous. */
  private async authorization(scopes: readonly string[], refresh: boolean): Promise<{ header?: string; username?: string }> {
    const challenge = this.challenge;
    if (challenge === null || challenge === undefined) return {};
    const credentials = await this.credentials();
    if (challenge.scheme === 'bearer' && challenge.params['realm'] !== undefined) {
      const token = await this.bearerToken(challenge, scopes, credentials, refresh);
      return credentials ? { header: `Bearer ${token}`, username: credentials.username } : { header: `Bearer ${token}` };
    }
    if (challenge.scheme === 'basic' && credentials !== undefined) {
      return { header: basicHeader(credentials), username: credentials.username };
    }
    return {};
  }

  /** A token from the challenge's realm for `scopes` (cached until it expires). */
  private async bearerToken(challenge: AuthChallenge, scopes: readonly string[], credentials: Credentials | undefined, refresh: boolean): Promise<string> {
    const realm = challenge.params['realm']!;
    const service = challenge.params['service'];
    const key = TokenCache.key({
      registry: this.registry,
      realm,
      ...(service !== undefined ? { service } : {}),
      ...(credentials ? { username: credentials.username } : {}),
      scopes,
    });
    if (!refresh) {
      const cached = this.tokenCache.get(key);
      if (cached !== undefined) return cached;
      // Parallel layer downloads share one token request.
      const pending = this.pendingTokens.get(key);
      if (pending !== undefined) return pending;
    } else {
      this.tokenCache.delete(key);
    }
    const request = this.requestToken(realm, service, key, scopes, credentials).finally(() => this.pendingTokens.delete(key));
    this.pendingTokens.set(key, request);
    return request;
  }

  private async requestToken(
    realm: string,
    service: string | undefined,
    key: string,
    scopes: readonly string[],
    credentials: Credentials | undefined,
  ): Promise<string> {
    const { token, expiresIn } = await fetchBearerToken({
      registry: this.registry,
      realm,
      ...(service !== undefined ? { service } : {}),
      scopes,
      ...(credentials !== undefined ? { credentials } : {}),
      allowPlainHttpCredentials: this.allowsInsecure,
      retry: this.retry,
      send: (url, headers, subject) => this.sendFollowing('GET', url, headers, undefined, true, subject),
      readBody: (response, max, subject, what) => this.readBody(response, max, subject, what),
    });
    this.tokenCache.set(key, token, expiresIn);
    return token;
  }

  /** readSmallBody with this client's stall timeout. */
  readBody(response: HttpResponse, max: number, subject: string, what: string): Promise<Buffer> {
    return readSmallBody(response, { max, subject, what, registry: this.registry, stallTimeoutMs: this.retry.stallTimeoutMs });
  }

  /** Resolves a request path or an upload Location against the base URL. */
  urlFor(path: string): URL {
    if (this.base === undefined) throw new Error('RegistryClient.urlFor before ping');
    return new URL(path, this.base);
  }

  /**
   * Sends `req` with authentication. A 401 with a challenge triggers one fresh token (or the
   * new challenge) and one resend. Retryable failures are retried with backoff unless the
   * body cannot be sent twice. Resolves with a response whose status is in `req.expect`; the
   * caller consumes or destroys its body.
   */
  async request(req: ClientRequest): Promise<HttpResponse> {
    await this.ping();
    const replayable = !(req.body instanceof Readable);
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    const once = async (): Promise<HttpResponse> => {
      let scopes = req.scopes;
      let refresh = false;
      for (let authTry = 0; ; authTry++) {
        const url = this.urlFor(req.path);
        const auth = url.host === this.base!.host ? await this.authorization(scopes, refresh) : {};
        const headers: Record<string, string> = { ...req.headers };
        if (auth.header !== undefined) headers['Authorization'] = auth.header;
        const body = typeof req.body === 'function' ? req.body() : req.body;
        const response = await this.sendFollowing(req.method, url, headers, body, follow, req.subject);
        if (response.status === 401 && authTry === 0 && replayable) {
          const challenge = preferredChallenge(response.header('www-authenticate'));
          if (challenge !== undefined) {
            response.body.resume();
            const scope = challenge.params['scope'];
            if (scope !== undefined && !scopes.includes(scope) && /^[\w.:/,*-]+$/.test(scope)) scopes = [...scopes, scope];
            this.challenge = challenge;
            refresh = true;
            continue;
          }
        }
        if (req.expect.includes(response.status)) return response;
        const context = { registry: this.registry, subject: req.subject, ...(auth.username !== undefined ? { username: auth.username } : {}) };
        throw await errorFromResponse(response, context);
      }
    };
    if (req.retry === false || !replayable) return once();
    return withRetry(this.registry, this.retry, once);
  }

  /**
   * Checks credentials the way `login` needs: a token for no scope (Bearer) or GET /v2/ with
   * them (Basic). Resolves when accepted or when the registry wants none; throws EAUTH otherwise.
   */
  async verifyCredentials(): Promise<void> {
    await this.ping();
    const challenge = this.challenge;
    if (challenge === null || challenge === undefined) return;
    const credentials = await this.credentials();
    if (challenge.scheme === 'bearer' && challenge.params['realm'] !== undefined) {
      await this.bearerToken(challenge, [], credentials, true);
      return;
    }
    if (challenge.scheme !== 'basic') {
      throw new RegistryError('EAUTH', `registry ${this.registry}: unsupported authentication scheme "${oneLine(challenge.scheme, 32)}"`);
    }
    const response = await this.request({ method: 'GET', path: '/v2/', scopes: [], expect: [200], subject: `registry ${this.registry}` });
    response.body.resume();
  }
}

