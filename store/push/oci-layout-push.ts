// The push primitives over an OCI image layout directory, so `push SOURCE oci:DIR[:TAG]` goes
// through the same plan (pushFromSource) as a push to a registry: blobs first, each verified
// while it streams to a temporary name and renamed into blobs/sha256/<hex> only when it
// matches; manifests as blobs; index.json last (writeIndexEntry), replaced atomically.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { temporarySibling, writeFileAtomic } from '../../common/atomic-file.js';
import { IntegrityError, SyscontainerError } from '../../common/errors.js';
import { layoutBlobPath, ociLayoutVersion, readOciLayoutIndex, refNameAnnotation } from '../sources/oci-layout-source.js';
import { type Descriptor, type ImageIndex, MediaType } from '../oci/oci-types.js';
import type { BlobData } from '../registry/push.js';
import { verifiedBlobStream } from '../content/verified-blob.js';
import { sha256Digest, shortDigest } from '../../common/digest.js';
import { pathExists } from '../../common/path-exists.js';
import type { PushPrimitives } from './push-from-source.js';

/**
 * A layout as a push destination. `repository` arguments are ignored (a layout has one
 * namespace). Create with `OciLayoutPush.open(dir)`; after the push, `writeIndexEntry` names
 * the top-level manifest in index.json. Blobs already present are kept (content-addressed).
 */
export class OciLayoutPush implements PushPrimitives {
  readonly dir: string;
  readonly #manifests = new Map<string, Descriptor>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens an existing layout or creates one in a missing or empty directory; EEXIST for anything else. */
  static async open(dir: string): Promise<OciLayoutPush> {
    const hasLayout = await pathExists(path.join(dir, 'oci-layout'));
    if (hasLayout) {
      await readOciLayoutIndex(dir);
    } else if ((await readdir(dir).catch(() => [] as string[])).some((name) => name !== 'blobs')) {
      throw new SyscontainerError('EEXIST', `oci:${dir}: not empty and not an OCI layout`);
    }
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    if (!hasLayout) {
      await writeFileAtomic(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: ociLayoutVersion }));
      await writeFileAtomic(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    }
    return new OciLayoutPush(dir);
  }

  async blobExists(_repository: string, digest: string): Promise<boolean> {
    return pathExists(layoutBlobPath(this.dir, digest));
  }

  async mountBlob(): Promise<boolean> {
    return false;
  }

  /** Streams the blob into place, verified against `descriptor`; nothing is left behind on failure. */
  async uploadBlob(_repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>, data: BlobData): Promise<void> {
    const file = layoutBlobPath(this.dir, descriptor.digest);
    const temp = temporarySibling(file);
    const input = Buffer.isBuffer(data) ? Readable.from([data]) : typeof data === 'function' ? data() : data;
    try {
      await pipeline(verifiedBlobStream(input, descriptor, `oci:${this.dir}: blob ${shortDigest(descriptor.digest)}`), createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Stores the manifest as a blob (whatever `reference` is) and returns its digest. */
  async putManifest(_repository: string, _reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const file = layoutBlobPath(this.dir, digest);
    if (!(await pathExists(file))) await writeFileAtomic(file, bytes);
    this.#manifests.set(digest, { mediaType, digest, size: bytes.length });
    return digest;
  }

  /**
   * Adds the manifest `digest` (put before by putManifest) to index.json, tagged `tag` (an
   * entry with the same tag is replaced) or untagged. Atomic. Returns the new index.
   */
  async writeIndexEntry(digest: string, tag: string | undefined): Promise<ImageIndex> {
    const descriptor = this.#manifests.get(digest);
    if (descriptor === undefined) throw new IntegrityError(`oci:${this.dir}: index entry`, 'a manifest written by this push', digest);
    const existing = await readOciLayoutIndex(this.dir);
    const kept = existing.manifests.filter((d) => {
      const name = d.annotations?.[refNameAnnotation];
      return tag === undefined ? !(name === undefined && d.digest === digest) : name !== tag;
    });
    const entry: Descriptor = { ...descriptor, ...(tag !== undefined ? { annotations: { [refNameAnnotation]: tag } } : {}) };
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, entry] };
    await writeFileAtomic(path.join(this.dir, 'index.json'), JSON.stringify(index));
    return index;
  }
}
