// Push primitives of the distribution API for one registry: does a blob exist, mount it from
// another repository, upload it (POST then one monolithic PUT), put a manifest. Tokens are
// asked with scope `repository:NAME:pull,push`. `push` itself is built on these elsewhere.
import { Readable } from 'node:stream';
import type { Credentials } from './auth-file.js';
import { IntegrityError, RegistryError, SyscontainerError } from '../../common/errors.js';
import type { Descriptor } from '../oci/oci-types.js';
import { registryFor, type RegistriesConf } from './registries-conf.js';
import { sha256Digest, shortDigest } from '../../common/digest.js';
import { pullScope, pushScope, RegistryClient } from './registry-client.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { TokenCache } from './token-cache.js';

export interface RegistryPushOptions {
  /** Host[:port] of the destination registry. */
  registry: string;
  conf: RegistriesConf;
  authFile?: string;
  credentials?: Credentials;
  retry?: Partial<RetryOptions>;
  tokenCache?: TokenCache;
}

/** Blob contents: a Buffer or a factory can be re-sent on retry; a bare Readable only once. */
export type BlobData = Buffer | Readable | (() => Readable);

export class RegistryPush {
  readonly registry: string;
  readonly client: RegistryClient;

  constructor(options: RegistryPushOptions) {
    this.registry = options.registry;
    const policy = registryFor(options.conf, options.registry);
    if (policy.blocked) throw new SyscontainerError('EREGISTRY', `registry ${options.registry} is blocked in registries.conf`);
    const clientOptions: ConstructorParameters<typeof RegistryClient>[0] = { registry: options.registry, insecure: policy.insecure };
    if (options.authFile !== undefined) clientOptions.authFile = options.authFile;
    if (options.credentials !== undefined) clientOptions.credentials = options.credentials;
    if (options.retry !== undefined) clientOptions.retry = options.retry;
    if (options.tokenCache !== undefined) clientOptions.tokenCache = options.tokenCache;
    this.client = new RegistryClient(clientOptions);
  }

  private subject(repository: string, what?: string): string {
    return `image ${this.registry}/${repository}${what ? `: ${what}` : ''}`;
  }

  /** Whether `repository` has the blob (HEAD). Idempotent. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    try {
      const response = await this.client.request({
        method: 'HEAD',
        path: `/v2/${repository}/blobs/${digest}`,
        scopes: [pushScope(repository)],
        expect: [200],
        subject: this.subject(repository, `blob ${shortDigest(digest)}`),
      });
      response.body.resume();
      return true;
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'ENOTFOUND') return false;
      throw error;
    }
  }

  /**
   * Asks the registry to link the blob from `fromRepository` (same registry) into `repository`.
   * True when mounted (201); false when the registry would not (202: an upload was started
   * instead, which is cancelled), so the caller uploads.
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const query = new URLSearchParams({ mount: digest, from: fromRepository });
    const response = await this.client.request({
      method: 'POST',
      path: `/v2/${repository}/blobs/uploads/?${query}`,
      scopes: [pushScope(repository), pullScope(fromRepository)],
      headers: { 'Content-Length': '0' },
      body: Buffer.alloc(0),
      expect: [201, 202],
      subject: this.subject(repository, `blob ${shortDigest(digest)}`),
    });
    response.body.resume();
    if (response.status === 201) return true;
    const location = response.header('location');
    if (location !== undefined) {
      // Best effort: an abandoned upload session is harmless, it only ages out later.
      await this.client
        .request({ method: 'DELETE', path: location, scopes: [pushScope(repository)], expect: [204, 200, 202, 404], subject: this.subject(repository), retry: false })
        .then((r) => r.body.resume())
        .catch(() => undefined);
    }
    return false;
  }

  /**
   * Uploads a blob: POST /v2/NAME/blobs/uploads/, then PUT the bytes to the returned Location
   * with `?digest=`. A Buffer is checked against the descriptor before anything is sent; the
   * registry checks streamed data itself (400 DIGEST_INVALID). Retried as a whole when the
   * data can be produced again.
   */
  async uploadBlob(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>, data: BlobData): Promise<void> {
    const subject = this.subject(repository, `blob ${shortDigest(descriptor.digest)}`);
    if (Buffer.isBuffer(data)) {
      if (data.length !== descriptor.size) throw new IntegrityError(`${subject} size mismatch`, String(descriptor.size), String(data.length));
      const found = sha256Digest(data);
      if (found !== descriptor.digest) throw new IntegrityError(`${subject} digest mismatch`, descriptor.digest, found);
    }
    const once = async (): Promise<void> => {
      const start = await this.client.request({
        method: 'POST',
        path: `/v2/${repository}/blobs/uploads/`,
        scopes: [pushScope(repository)],
        headers: { 'Content-Length': '0' },
        body: Buffer.alloc(0),
        expect: [202],
        subject,
        retry: false,
      });
      start.body.resume();
      const location = start.header('location');
      if (location === undefined || location === '') {
        throw new RegistryError('EREGISTRY', `${subject}: registry started an upload without a Location`, { status: 202 });
      }
      const target = this.client.urlFor(location);
      target.searchParams.append('digest', descriptor.digest);
      const put = await this.client.request({
        method: 'PUT',
        path: target.href,
        scopes: [pushScope(repository)],
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(descriptor.size) },
        body: data,
        expect: [201, 204],
        subject,
        retry: false,
      });
      put.body.resume();
    };
    if (data instanceof Readable) return once();
    return withRetry(this.registry, this.client.retry, once);
  }

  /** PUT of a manifest or index under a tag or digest. Returns the digest of `bytes`. Idempotent. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const response = await this.client.request({
      method: 'PUT',
      path: `/v2/${repository}/manifests/${reference}`,
      scopes: [pushScope(repository)],
      headers: { 'Content-Type': mediaType },
      body: bytes,
      expect: [201, 200, 202],
      subject: `image ${this.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`,
    });
    response.body.resume();
    const served = response.header('docker-content-digest');
    if (served !== undefined && served.startsWith('sha256:') && served !== digest) {
      throw new IntegrityError(`image ${this.registry}/${repository}: registry stored the manifest under another digest`, digest, served);
    }
    return digest;
  }
}
