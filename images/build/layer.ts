// Deterministic layer builder: the same entries give the same bytes, digest and diff_id on
// every run (fixed mtime, no user/group names unless given, gzip header without name/mtime).
// Used by tests (including hostile layers: devices, FIFOs, raw header overrides) and by the
// image builder.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import tar from 'tar-stream';
import { compressBuffer } from '../../store/content/decompress.js';
import { MediaType, type Compression } from '../../store/oci/oci-types.js';

/** The mtime written into every entry (2001-09-09T01:46:40Z). */
export const fixedMtime = new Date(1_000_000_000 * 1000);

interface EntryCommon {
  /** Path as written into the tar header (not normalised: tests write hostile ones). */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Extra pax records (e.g. { 'SCHILY.xattr.user.x': 'v' } or a hostile { path: '../x' }). */
  pax?: Record<string, string>;
  /** Raw header fields applied last, over everything above. */
  header?: Partial<tar.Header>;
}

export type LayerEntry =
  | (EntryCommon & { type: 'file'; content: string | Buffer })
  | (EntryCommon & { type: 'dir' })
  | (EntryCommon & { type: 'symlink'; target: string })
  | (EntryCommon & { type: 'hardlink'; target: string })
  | (EntryCommon & { type: 'fifo' })
  | (EntryCommon & { type: 'char-device' | 'block-device'; major?: number; minor?: number });

export interface BuildLayerOptions {
  compression?: Compression;
  /** Media type family for the descriptor. Default 'oci'; 'docker' only exists for gzip. */
  flavour?: 'oci' | 'docker';
}

export interface BuiltLayer {
  /** The blob as it goes to a registry (compressed per options). */
  bytes: Buffer;
  /** sha256 of `bytes`. */
  digest: string;
  /** sha256 of the uncompressed tar (config rootfs.diff_ids). */
  diffId: string;
  size: number;
  mediaType: string;
  /** The uncompressed tar. */
  tar: Buffer;
}

/** A whiteout deleting `path` in lower layers: an empty file `DIR/.wh.NAME`. */
export function whiteout(path: string): LayerEntry {
  const dir = posix.dirname(path);
  const name = `.wh.${posix.basename(path)}`;
  return { type: 'file', path: dir === '.' ? name : `${dir}/${name}`, content: '', mode: 0o644 };
}

/** Marks directory `dir` opaque: lower layers' content of it is hidden. */
export function opaque(dir: string): LayerEntry {
  return { type: 'file', path: `${dir.replace(/\/+$/, '')}/.wh..wh..opq`, content: '', mode: 0o644 };
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function mediaTypeFor(compression: Compression, flavour: 'oci' | 'docker'): string {
  if (flavour === 'docker') {
    if (compression !== 'gzip') throw new Error(`docker layers are gzip only, not ${compression}`);
    return MediaType.dockerLayerGzip;
  }
  return compression === 'gzip' ? MediaType.ociLayerGzip : compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
}

/** Builds the uncompressed tar of `entries`, in order. */
export async function buildTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const typeName = {
      file: 'file',
      dir: 'directory',
      symlink: 'symlink',
      hardlink: 'link',
      fifo: 'fifo',
      'char-device': 'character-device',
      'block-device': 'block-device',
    }[entry.type] as tar.Header['type'];
    const defaultMode = entry.type === 'dir' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644;
    const header: Partial<tar.Header> & { name: string } = {
      name: entry.path,
      type: typeName,
      // S_IFREG keeps an explicit mode 0 from being replaced by tar-stream's default.
      mode: ((entry.mode ?? defaultMode) & 0o7777) | 0o100000,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      uname: entry.uname ?? '',
      gname: entry.gname ?? '',
      mtime: fixedMtime,
    };
    if (entry.type === 'symlink' || entry.type === 'hardlink') header.linkname = entry.target;
    if (entry.type === 'char-device' || entry.type === 'block-device') {
      header.devmajor = entry.major ?? 1;
      header.devminor = entry.minor ?? 3;
    }
    if (entry.pax) header.pax = entry.pax;
    Object.assign(header, entry.header ?? {});
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (entry.type === 'file') pack.entry(header, typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content, done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Builds a layer blob from `entries`. Deterministic for a given zlib/zstd version. */
export async function buildLayer(entries: readonly LayerEntry[], opts: BuildLayerOptions = {}): Promise<BuiltLayer> {
  const compression = opts.compression ?? 'gzip';
  const tarBytes = await buildTar(entries);
  const bytes = await compressBuffer(tarBytes, compression);
  return {
    bytes,
    digest: sha256(bytes),
    diffId: sha256(tarBytes),
    size: bytes.length,
    mediaType: mediaTypeFor(compression, opts.flavour ?? 'oci'),
    tar: tarBytes,
  };
}
