// An ImageSource over an OCI image layout: a directory (`oci:DIR[:TAG]`) or a tar of one
// (`oci-archive:FILE[:TAG]`). The layout is untrusted like a registry: index.json and
// manifests are bounded and validated, and every blob is verified while it streams.
//
// An archive is extracted once, as it streams, into a private temporary directory (only
// `oci-layout`, `index.json` and `blobs/sha256/<hex>` regular files; anything else is skipped,
// hostile names are refused); `close()` removes it.
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import * as z from 'zod';
import { sha256Digest } from '../../common/digest.js';
import { IntegrityError, SyscontainerError } from '../../common/errors.js';
import type { FetchedManifest, ImageSource } from './image-source.js';
import { extractArchive, readBounded } from './archive-files.js';
import {
  type Descriptor,
  type ImageIndex,
  MediaType,
  digestPattern,
  indexMediaTypes,
  indexSchema,
  limits,
  manifestMediaTypes,
  parseJson,
} from '../oci/oci-types.js';
import { verifiedBlobStream } from '../content/verified-blob.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

/** The annotation that names an entry of index.json (skopeo writes the bare tag there). */
export const refNameAnnotation = 'org.opencontainers.image.ref.name';
export const ociLayoutVersion = '1.0.0';

// A bound on index.json, so a hostile layout cannot exhaust memory (the archive's own bounds are in archive-files).
const maxIndexBytes = limits.manifestBytes;

const layoutFileSchema = builtOnFirstUse(() => z.object({ imageLayoutVersion: z.string().min(1) }));

export interface OciLayoutSpec {
  transport: 'oci' | 'oci-archive';
  /** The directory (oci) or tar file (oci-archive). */
  path: string;
  /** The ref.name to select; undefined: the layout must hold exactly one entry. */
  tag: string | undefined;
}

/** True for `oci:...` and `oci-archive:...` references. */
export function isOciLayoutSpec(reference: string): boolean {
  return reference.startsWith('oci:') || reference.startsWith('oci-archive:');
}

/**
 * Splits `oci:DIR[:TAG]` / `oci-archive:FILE[:TAG]`. As in skopeo, the path ends at the
 * first `:` after the transport, so a path cannot contain `:`. Pure; throws EREFERENCE.
 */
export function parseOciLayoutSpec(reference: string): OciLayoutSpec {
  const colon = reference.indexOf(':');
  const transport = reference.slice(0, colon);
  if (colon < 0 || (transport !== 'oci' && transport !== 'oci-archive')) {
    throw new SyscontainerError('EREFERENCE', `${reference}: not an oci: or oci-archive: reference`);
  }
  const rest = reference.slice(colon + 1);
  const sep = rest.indexOf(':');
  const file = sep < 0 ? rest : rest.slice(0, sep);
  const tag = sep < 0 ? undefined : rest.slice(sep + 1);
  if (file === '') throw new SyscontainerError('EREFERENCE', `${reference}: no path given`);
  if (tag !== undefined && !/^[A-Za-z0-9_.:@/+-]{1,256}$/.test(tag)) {
    throw new SyscontainerError('EREFERENCE', `${reference}: bad tag "${tag}"`);
  }
  return { transport, path: file, tag: tag === '' ? undefined : tag };
}

/** Path of a blob inside a layout directory; the digest is validated first, so it cannot escape. */
export function layoutBlobPath(dir: string, digest: string): string {
  if (!digestPattern.test(digest)) {
    throw new SyscontainerError('EMANIFEST', `${digest}: not a sha256 digest`);
  }
  return path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/**
 * Reads and validates the layout's `oci-layout` marker and `index.json`. Read-only; throws
 * ENOTFOUND when DIR is no layout, EMANIFEST when it is malformed.
 */
export async function readOciLayoutIndex(dir: string): Promise<ImageIndex> {
  const marker = parseJson(layoutFileSchema, await readBounded(path.join(dir, 'oci-layout'), 4096, `${dir}/oci-layout`), `${dir}/oci-layout`);
  if (marker.imageLayoutVersion !== ociLayoutVersion) {
    throw new SyscontainerError('EMANIFEST', `${dir}: unsupported OCI layout version ${marker.imageLayoutVersion}`);
  }
  return parseJson(indexSchema, await readBounded(path.join(dir, 'index.json'), maxIndexBytes, `${dir}/index.json`), `${dir}/index.json`);
}

/**
 * The entry of index.json named `tag` (by its ref.name annotation); with no tag, the only
 * entry. Throws ENOTFOUND (no such tag) or EINVAL (ambiguous).
 */
export function findLayoutEntry(index: ImageIndex, tag: string | undefined, what: string): Descriptor {
  if (tag === undefined) {
    const [only, ...others] = index.manifests;
    if (only === undefined) throw new SyscontainerError('ENOTFOUND', `${what}: the layout holds no image`);
    if (others.length > 0) {
      const names = index.manifests.map((d) => d.annotations?.[refNameAnnotation] ?? d.digest);
      throw new SyscontainerError('EINVAL', `${what}: the layout holds ${index.manifests.length} images; name one`, {
        hint: `add :TAG, one of: ${names.join(', ')}`,
      });
    }
    return only;
  }
  const matches = index.manifests.filter((d) => d.annotations?.[refNameAnnotation] === tag);
  const [match, ...more] = matches;
  if (match === undefined) throw new SyscontainerError('ENOTFOUND', `${what}: no image tagged ${tag} in the layout`);
  if (more.length > 0) throw new SyscontainerError('EMANIFEST', `${what}: tag ${tag} names ${matches.length} entries in index.json`);
  return match;
}

/** The media type a manifest document declares, or what its shape says it is. */
function sniffManifestMediaType(bytes: Buffer, what: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SyscontainerError('EMANIFEST', `${what} is not valid JSON`, { cause: error });
  }
  if (typeof doc !== 'object' || doc === null) throw new SyscontainerError('EMANIFEST', `${what} is not a JSON object`);
  const declared = (doc as { mediaType?: unknown }).mediaType;
  if (typeof declared === 'string') return declared;
  if ('manifests' in doc) return MediaType.ociIndex;
  if ('config' in doc) return MediaType.ociManifest;
  throw new SyscontainerError('EMANIFEST', `${what} is neither a manifest nor an index`);
}

/** The parts of an OCI archive a layout source reads. */
function isLayoutFile(name: string): boolean {
  return name === 'oci-layout' || name === 'index.json' || /^blobs\/sha256\/[a-f0-9]{64}$/.test(name);
}

/**
 * Reads images from an OCI layout directory or archive. Create with `OciLayoutSource.open`;
 * call `close()` when done (removes an archive's temporary extraction; a no-op for dirs).
 */
export class OciLayoutSource implements ImageSource {
  readonly description: string;
  /** The tag given in the spec (undefined: the layout's only image). Pass to fetchManifest. */
  readonly tag: string | undefined;
  readonly #dir: string;
  readonly #tempDir: string | undefined;
  #index: ImageIndex | undefined;

  private constructor(description: string, dir: string, tag: string | undefined, tempDir: string | undefined) {
    this.description = description;
    this.#dir = dir;
    this.tag = tag;
    this.#tempDir = tempDir;
  }

  /** Opens `oci:DIR[:TAG]` or `oci-archive:FILE[:TAG]` (see parseOciLayoutSpec). */
  static async open(reference: string | OciLayoutSpec): Promise<OciLayoutSource> {
    const spec = typeof reference === 'string' ? parseOciLayoutSpec(reference) : reference;
    const description = `${spec.transport}:${spec.path}${spec.tag === undefined ? '' : `:${spec.tag}`}`;
    if (spec.transport === 'oci') {
      const source = new OciLayoutSource(description, spec.path, spec.tag, undefined);
      await source.#loadIndex();
      return source;
    }
    const stat = await lstat(spec.path).catch((error: unknown) => {
      throw new SyscontainerError('ENOTFOUND', `${description}: archive not found`, { cause: error });
    });
    if (!stat.isFile()) throw new SyscontainerError('EINVAL', `${description}: not a regular file`);
    const temp = await mkdtemp(path.join(tmpdir(), 'syscontainer-oci-archive-'));
    const source = new OciLayoutSource(description, temp, spec.tag, temp);
    try {
      await extractArchive(spec.path, temp, isLayoutFile);
      await source.#loadIndex();
    } catch (error) {
      await source.close();
      if (error instanceof SyscontainerError) throw error;
      throw new SyscontainerError('ELAYER', `${description}: cannot read the archive`, { cause: error });
    }
    return source;
  }

  /** Removes the temporary extraction of an archive. Idempotent. */
  async close(): Promise<void> {
    if (this.#tempDir !== undefined) await rm(this.#tempDir, { recursive: true, force: true });
  }

  async #loadIndex(): Promise<ImageIndex> {
    this.#index ??= await readOciLayoutIndex(this.#dir).catch((error: unknown) => {
      if (error instanceof SyscontainerError) {
        throw new SyscontainerError(error.code, `${this.description}: ${error.message}`, { cause: error });
      }
      throw error;
    });
    return this.#index;
  }

  /** The layout's index.json, validated. */
  async index(): Promise<ImageIndex> {
    return this.#loadIndex();
  }

  /**
   * `reference` is a tag (ref.name), a sha256 digest of any manifest or index in blobs/
   * (children of an index are not listed in index.json), or '' for the spec's own tag.
   */
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    let descriptor: Descriptor | undefined;
    let digest: string;
    if (digestPattern.test(reference)) {
      digest = reference;
      descriptor = (await this.#loadIndex()).manifests.find((d) => d.digest === reference);
    } else {
      descriptor = findLayoutEntry(await this.#loadIndex(), reference === '' ? this.tag : reference, this.description);
      digest = descriptor.digest;
    }
    const what = `${this.description}: manifest ${digest}`;
    if (descriptor !== undefined && descriptor.size > limits.manifestBytes) {
      throw new SyscontainerError('ELIMIT', `${what}: ${descriptor.size} bytes exceeds the limit of ${limits.manifestBytes}`);
    }
    const bytes = await readBounded(layoutBlobPath(this.#dir, digest), limits.manifestBytes, what);
    const found = sha256Digest(bytes);
    if (found !== digest) throw new IntegrityError(`${what} digest mismatch`, digest, found);
    if (descriptor !== undefined && bytes.length !== descriptor.size) {
      throw new IntegrityError(`${what} size mismatch`, String(descriptor.size), String(bytes.length));
    }
    const mediaType = descriptor?.mediaType ?? sniffManifestMediaType(bytes, what);
    if (!manifestMediaTypes.includes(mediaType) && !indexMediaTypes.includes(mediaType)) {
      throw new SyscontainerError('EMANIFEST', `${what}: unsupported media type ${mediaType}`);
    }
    return { bytes, mediaType, digest };
  }

  /** The blob's bytes as stored; errors with IntegrityError on a size or digest mismatch. */
  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const file = layoutBlobPath(this.#dir, descriptor.digest);
    const what = `${this.description}: blob ${descriptor.digest}`;
    const stat = await lstat(file).catch((error: unknown) => {
      throw new SyscontainerError('ENOTFOUND', `${what}: not in the layout`, { cause: error });
    });
    if (!stat.isFile()) throw new SyscontainerError('EMANIFEST', `${what}: not a regular file`);
    // Fail early on a wrong size; the verifying stream checks the bytes actually read.
    if (stat.size !== descriptor.size) {
      throw new IntegrityError(`${what} size mismatch`, String(descriptor.size), String(stat.size));
    }
    return verifiedBlobStream(createReadStream(file), descriptor, what);
  }
}

/** Reads a whole (small) blob of a layout dir, verified; for configs and manifests. */
export async function readLayoutBlob(dir: string, descriptor: Descriptor, max: number): Promise<Buffer> {
  const what = `${dir}: blob ${descriptor.digest}`;
  if (descriptor.size > max) throw new SyscontainerError('ELIMIT', `${what}: ${descriptor.size} bytes exceeds the limit of ${max}`);
  const bytes = await readBounded(layoutBlobPath(dir, descriptor.digest), max, what);
  const found = sha256Digest(bytes);
  if (found !== descriptor.digest) throw new IntegrityError(`${what} digest mismatch`, descriptor.digest, found);
  if (bytes.length !== descriptor.size) throw new IntegrityError(`${what} size mismatch`, String(descriptor.size), String(bytes.length));
  return bytes;
}
