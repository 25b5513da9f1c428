// ImageSource for a registry: manifests and blobs of one repository, read through the mirrors
// registries.conf lists (in order) and then the main location. Manifests are bounded and
// verified here; blobs come out of a resumable reader wrapped in the BlobVerifier.
import type { Readable } from 'node:stream';
import type { Credentials } from '../registry/auth-file.js';
import { IntegrityError, RegistryError, SyscontainerError } from '../../common/errors.js';
import type { FetchedManifest, ImageSource } from './image-source.js';
import { digestPattern, limits, MediaType, type Descriptor } from '../oci/oci-types.js';
import { formatReference, manifestReferenceOf, type ImageReference } from '../oci/reference.js';
import { registryFor, type PullFromMirror, type RegistriesConf } from '../registry/registries-conf.js';
import { verifiedBlobStream } from '../content/verified-blob.js';
import { sha256Digest, shortDigest } from '../../common/digest.js';
import { ResumableBlobReader } from '../registry/blob-reader.js';
import type { HttpResponse } from '../registry/http.js';
import { pullScope, RegistryClient } from '../registry/registry-client.js';
import { withRetry, type RetryOptions } from '../registry/retry.js';
import type { TokenCache } from '../registry/token-cache.js';

export interface RegistrySourceOptions {
  /** A qualified reference (registry set); its tag/digest is what `resolve` defaults to. */
  reference: ImageReference;
  conf: RegistriesConf;
  authFile?: string;
  /** Use these instead of looking in auth files. */
  credentials?: Credentials;
  retry?: Partial<RetryOptions>;
  tokenCache?: TokenCache;
}

/** Accept header for manifests: every type we can use, most preferred first. */
export const manifestAccept = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest].join(', ');

const genericContentTypes = new Set(['', 'application/json', 'text/plain', 'application/octet-stream', 'binary/octet-stream']);

/**
 * The manifest's media type: the Content-Type unless it is generic, then the document's own
 * `mediaType`, then its shape (`manifests` → OCI index, `config` → OCI manifest).
 */
export function manifestMediaTypeOf(contentType: string | undefined, bytes: Buffer): string {
  const declared = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!genericContentTypes.has(declared)) return declared;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown; config?: unknown };
    if (typeof doc.mediaType === 'string' && doc.mediaType !== '') return doc.mediaType;
    if (Array.isArray(doc.manifests)) return MediaType.ociIndex;
    if (typeof doc.config === 'object' && doc.config !== null) return MediaType.ociManifest;
  } catch {
    // Left to the schema check, which names the fault.
  }
  return declared || 'application/octet-stream';
}

interface Endpoint {
  client: RegistryClient;
  /** Host as written in registries.conf ("mirror.local:5000"). */
  host: string;
  repository: string;
  mirror: boolean;
  pullFromMirror: PullFromMirror;
}

function splitLocation(location: string): { host: string; repository: string } {
  const slash = location.indexOf('/');
  if (slash <= 0) throw new SyscontainerError('ECONFIG', `registries.conf location "${location}" has no repository path`);
  return { host: location.slice(0, slash), repository: location.slice(slash + 1) };
}

export class RegistrySource implements ImageSource {
  readonly description: string;
  readonly reference: ImageReference;
  private readonly endpoints: Endpoint[];
  /** Endpoint the last manifest came from: blobs are asked there first. */
  private preferred: Endpoint | undefined;

  constructor(options: RegistrySourceOptions) {
    const { reference, conf } = options;
    if (reference.registry === undefined) {
      throw new SyscontainerError('EREFERENCE', `image ${formatReference(reference)}: not fully qualified (no registry)`);
    }
    this.reference = reference;
    this.description = formatReference(reference);
    const policy = registryFor(conf, `${reference.registry}/${reference.repository}`);
    if (policy.blocked) {
      throw new SyscontainerError('EREGISTRY', `image ${this.description}: registry ${reference.registry} is blocked in registries.conf`);
    }
    const clientFor = (host: string, insecure: boolean): RegistryClient => {
      const clientOptions: ConstructorParameters<typeof RegistryClient>[0] = { registry: host, insecure };
      if (options.authFile !== undefined) clientOptions.authFile = options.authFile;
      if (options.credentials !== undefined && host === reference.registry) clientOptions.credentials = options.credentials;
      if (options.retry !== undefined) clientOptions.retry = options.retry;
      if (options.tokenCache !== undefined) clientOptions.tokenCache = options.tokenCache;
      return new RegistryClient(clientOptions);
    };
    const primary = splitLocation(policy.location);
    this.endpoints = [
      ...policy.mirrors.map((m) => {
        const { host, repository } = splitLocation(m.location);
        return { client: clientFor(host, m.insecure), host, repository, mirror: true, pullFromMirror: m.pullFromMirror };
      }),
      { client: clientFor(primary.host, policy.insecure), host: primary.host, repository: primary.repository, mirror: false, pullFromMirror: 'all' },
    ];
  }

  /** The tag or digest this source's reference names (`latest` by default). */
  get defaultManifestReference(): string {
    return manifestReferenceOf(this.reference);
  }

  private endpointsFor(reference: string): Endpoint[] {
    const byDigest = digestPattern.test(reference);
    return this.endpoints.filter(
      (e) => !e.mirror || e.pullFromMirror === 'all' || (e.pullFromMirror === 'digest-only' ? byDigest : !byDigest),
    );
  }

  /** Tries `fn` on each endpoint in order; the main location's error wins when all fail. */
  private async firstEndpoint<T>(endpoints: Endpoint[], fn: (e: Endpoint) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (const endpoint of endpoints) {
      try {
        return await fn(endpoint);
      } catch (error) {
        lastError = error;
        if (!(error instanceof SyscontainerError)) throw error;
      }
    }
    throw lastError;
  }

  private subject(reference: string): string {
    if (reference === manifestReferenceOf(this.reference)) return `image ${this.description}`;
    const base = `${this.reference.registry}/${this.reference.repository}`;
    return `image ${digestPattern.test(reference) ? `${base}@${reference}` : `${base}:${reference}`}`;
  }

  async fetchManifest(reference: string): Promise<FetchedManifest> {
    const subject = this.subject(reference);
    const byDigest = digestPattern.test(reference);
    if (!byDigest && !/^[\w][\w.-]{0,127}$/.test(reference)) {
      const shown = reference.replace(/[^\x20-\x7e]/g, '?').slice(0, 140);
      throw new SyscontainerError('EREFERENCE', `image ${this.description}: "${shown}" is neither a tag nor a sha256 digest`);
    }
    return this.firstEndpoint(this.endpointsFor(reference), async (endpoint) => {
      const { bytes, response } = await this.fetchSmall(endpoint, `/v2/${endpoint.repository}/manifests/${reference}`, subject, limits.manifestBytes, 'manifest');
      const digest = sha256Digest(bytes);
      if (byDigest && digest !== reference) {
        throw new IntegrityError(`${subject}: manifest digest mismatch`, reference, digest);
      }
      const served = response.header('docker-content-digest');
      if (!byDigest && served !== undefined && served.startsWith('sha256:') && served !== digest) {
        throw new IntegrityError(`${subject}: manifest does not match the registry's Docker-Content-Digest`, served, digest);
      }
      this.preferred = endpoint;
      return { bytes, mediaType: manifestMediaTypeOf(response.header('content-type'), bytes), digest };
    });
  }

  /** GET of a small document, retried as a whole (request and body) on retryable failures. */
  private async fetchSmall(endpoint: Endpoint, path: string, subject: string, max: number, what: string): Promise<{ bytes: Buffer; response: HttpResponse }> {
    const { client } = endpoint;
    return withRetry(client.registry, client.retry, async () => {
      const response = await client.request({
        method: 'GET',
        path,
        scopes: [pullScope(endpoint.repository)],
        headers: { Accept: manifestAccept },
        expect: [200],
        subject,
        retry: false,
      });
      const bytes = await client.readBody(response, max, subject, what);
      return { bytes, response };
    });
  }

  /**
   * Whether the manifest exists (HEAD; cheap, and not counted by Docker Hub's pull limits).
   * False on 404; other failures throw.
   */
  async hasManifest(reference: string = this.defaultManifestReference): Promise<boolean> {
    const subject = this.subject(reference);
    try {
      return await this.firstEndpoint(this.endpointsFor(reference), async (endpoint) => {
        const response = await endpoint.client.request({
          method: 'HEAD',
          path: `/v2/${endpoint.repository}/manifests/${reference}`,
          scopes: [pullScope(endpoint.repository)],
          headers: { Accept: manifestAccept },
          expect: [200],
          subject,
        });
        response.body.resume();
        return true;
      });
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'ENOTFOUND') return false;
      throw error;
    }
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    if (!digestPattern.test(descriptor.digest)) {
      throw new SyscontainerError('EMANIFEST', `image ${this.description}: blob digest "${descriptor.digest}" is not sha256`);
    }
    const what = `image ${this.description}: blob ${shortDigest(descriptor.digest)}`;
    const ordered = this.preferred ? [this.preferred, ...this.endpoints.filter((e) => e !== this.preferred)] : this.endpoints;
    return this.firstEndpoint(ordered, async (endpoint) => {
      const { client, repository } = endpoint;
      const path = `/v2/${repository}/blobs/${descriptor.digest}`;
      const open = (offset: number, expect: number[]): Promise<HttpResponse> =>
        client.request({
          method: 'GET',
          path,
          scopes: [pullScope(repository)],
          headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
          expect,
          subject: what,
        });
      const first = await open(0, [200]);
      const declared = first.header('content-length');
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== descriptor.size) {
        first.body.destroy();
        throw new IntegrityError(`${what} size mismatch`, String(descriptor.size), `${declared} (Content-Length)`);
      }
      const reader = new ResumableBlobReader({
        first,
        reopen: (offset) => open(offset, offset > 0 ? [200, 206, 416] : [200]),
        size: descriptor.size,
        what,
        registry: client.registry,
        retry: client.retry,
      });
      return verifiedBlobStream(reader, descriptor, what);
    });
  }
}

export interface OpenFirstOptions extends Omit<RegistrySourceOptions, 'reference'> {}

/**
 * The first candidate (from qualifyReference) whose registry has the image. With a single
 * candidate no probe is made (the pull itself reports what is wrong). Otherwise each is
 * probed with HEAD; when none has it the error lists what each registry said.
 */
export async function openFirstAvailable(candidates: readonly ImageReference[], options: OpenFirstOptions): Promise<RegistrySource> {
  if (candidates.length === 0) throw new SyscontainerError('EREFERENCE', 'no image reference candidates to try');
  if (candidates.length === 1) return new RegistrySource({ ...options, reference: candidates[0]! });
  const failures: string[] = [];
  let lastError: unknown;
  for (const reference of candidates) {
    try {
      const source = new RegistrySource({ ...options, reference });
      if (await source.hasManifest()) return source;
      failures.push(`${formatReference(reference)}: not found`);
    } catch (error) {
      if (!(error instanceof SyscontainerError)) throw error;
      lastError = error;
      failures.push(error.message);
    }
  }
  const notFound = failures.every((f) => f.endsWith(': not found'));
  throw new SyscontainerError(notFound ? 'ENOTFOUND' : lastError instanceof SyscontainerError ? lastError.code : 'ENOTFOUND', `image not found in any search registry (${failures.join('; ')})`, {
    cause: lastError,
  });
}
