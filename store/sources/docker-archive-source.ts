// An ImageSource over a `docker save` tar: `docker-archive:FILE[:NAME:TAG]` (skopeo's name)
// and `dockertar:/FILE` (Atomic's). The archive holds manifest.json (a list of
// {Config, RepoTags, Layers} naming files of the archive), the config JSON and one tar per
// layer (plain, or gzip/zstd since Docker 25's OCI-layout archives). It has no registry
// manifest: one is made here from the files' digests, so the same archive gives the same image.
//
// The archive is untrusted like a registry: it is extracted once into a private temporary
// directory (regular files under plain relative names only; links, devices and names with
// `..` are skipped), manifest.json and the config are bounded and validated, and every blob
// is verified while it streams (the config's diff_ids are checked by the pull as for any
// source). `close()` removes the extraction.
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as z from 'zod';
import { sha256Digest } from '../../common/digest.js';
import { SyscontainerError } from '../../common/errors.js';
import { Meter } from '../../common/metering.js';
import { extractArchive, readBounded, safeArchiveName } from './archive-files.js';
import type { FetchedManifest, ImageSource } from './image-source.js';
import { type Descriptor, type ImageManifest, MediaType, imageConfigSchema, limits, parseJson } from '../oci/oci-types.js';
import { verifiedBlobStream } from '../content/verified-blob.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export interface DockerArchiveSpec {
  /** The tar file, absolute. */
  path: string;
  /** NAME:TAG to pick from an archive of several images; undefined: its only image. */
  name: string | undefined;
}

const maxManifestListBytes = 1024 * 1024;
/** How a file manifest.json names and the archive lacks is reported. */
const notInArchive = { code: 'EMANIFEST', text: 'not in the archive' } as const;

const archiveManifestSchema = builtOnFirstUse(() => z
  .array(
    z.object({
      Config: z.string().min(1),
      RepoTags: z.array(z.string()).nullish(),
      Layers: z.array(z.string().min(1)).max(limits.layers),
    }),
  )
  .min(1)
  .max(limits.indexEntries));
type ArchiveEntry = z.infer<typeof archiveManifestSchema>[number];

/** True for `docker-archive:…` and `dockertar:…` references. */
export function isDockerArchiveSpec(reference: string): boolean {
  return reference.startsWith('docker-archive:') || reference.startsWith('dockertar:');
}

/**
 * Splits `docker-archive:FILE[:NAME:TAG]` or `dockertar:/FILE` (Atomic wrote
 * `dockertar:/` + an absolute path, so `dockertar://tmp/x.tar` is /tmp/x.tar). Pure; throws
 * EREFERENCE.
 */
export function parseDockerArchiveSpec(reference: string): DockerArchiveSpec {
  if (reference.startsWith('dockertar:')) {
    let file = reference.slice('dockertar:'.length);
    if (file.startsWith('//')) file = file.slice(1);
    if (file === '' || file === '/') throw new SyscontainerError('EREFERENCE', `${reference}: no path given`);
    return { path: path.resolve(file), name: undefined };
  }
  if (!reference.startsWith('docker-archive:')) throw new SyscontainerError('EREFERENCE', `${reference}: not a docker-archive: or dockertar: reference`);
  const rest = reference.slice('docker-archive:'.length);
  const sep = rest.indexOf(':');
  const file = sep < 0 ? rest : rest.slice(0, sep);
  const name = sep < 0 ? undefined : rest.slice(sep + 1);
  if (file === '') throw new SyscontainerError('EREFERENCE', `${reference}: no path given`);
  if (name !== undefined && !/^[A-Za-z0-9_.:@/+-]{1,256}$/.test(name)) throw new SyscontainerError('EREFERENCE', `${reference}: bad image name "${name}"`);
  return { path: path.resolve(file), name: name === undefined || name === '' ? undefined : withTag(name) };
}

/** NAME with `:latest` when it has no tag. Pure. */
function withTag(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1).includes(':') ? name : `${name}:latest`;
}

/** sha256, size and compression (by its first bytes) of a file. */
async function describeFile(file: string): Promise<{ digest: string; size: number; mediaType: string }> {
  const meter = new Meter();
  let head = Buffer.alloc(0);
  await pipeline(createReadStream(file), meter, async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
  });
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const zstd = head.readUInt32LE(0) === 0xfd2fb528;
  const mediaType = gzip ? MediaType.ociLayerGzip : head.length === 4 && zstd ? MediaType.ociLayerZstd : MediaType.ociLayer;
  return { digest: meter.digest(), size: meter.bytes, mediaType };
}

/**
 * Reads one image of a docker-archive. Create with `DockerArchiveSource.open`; call `close()`
 * when done. `imageName` is the name to store it under: the NAME:TAG asked for, else the
 * archive's first RepoTag, else the file's name (as Atomic did).
 */
export class DockerArchiveSource implements ImageSource {
  readonly description: string;
  readonly imageName: string;
  readonly #dir: string;
  readonly #manifest: FetchedManifest;
  readonly #files: Map<string, string>;

  private constructor(description: string, imageName: string, dir: string, manifest: FetchedManifest, files: Map<string, string>) {
    this.description = description;
    this.imageName = imageName;
    this.#dir = dir;
    this.#manifest = manifest;
    this.#files = files;
  }

  static async open(reference: string | DockerArchiveSpec): Promise<DockerArchiveSource> {
    const spec = typeof reference === 'string' ? parseDockerArchiveSpec(reference) : reference;
    const description = `docker-archive:${spec.path}${spec.name === undefined ? '' : `:${spec.name}`}`;
    const stat = await lstat(spec.path).catch((error: unknown) => {
      throw new SyscontainerError('ENOTFOUND', `${description}: archive not found`, { cause: error });
    });
    if (!stat.isFile()) throw new SyscontainerError('EINVAL', `${description}: not a regular file`);
    const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-docker-archive-'));
    try {
      await extractArchive(spec.path, dir).catch((error: unknown) => {
        if (error instanceof SyscontainerError) throw error;
        throw new SyscontainerError('ELAYER', `${description}: cannot read the archive`, { cause: error });
      });
      const list = parseJson(archiveManifestSchema, await readBounded(path.join(dir, 'manifest.json'), maxManifestListBytes, `${description}: manifest.json`, notInArchive), `${description}: manifest.json`);
      const entry = pickEntry(list, spec.name, description);
      const imageName = spec.name ?? (entry.RepoTags?.[0] !== undefined ? withTag(entry.RepoTags[0]) : `${path.basename(spec.path).replace(/\.tar$/, '') || 'image'}:latest`);
      const files = new Map<string, string>();
      const located = (name: string, what: string): string => {
        const safe = safeArchiveName(name);
        if (safe === undefined) throw new SyscontainerError('EMANIFEST', `${description}: manifest.json names ${what} ${JSON.stringify(name)}, not a plain path in the archive`);
        return path.join(dir, safe);
      };
      const configFile = located(entry.Config, 'the config');
      const configBytes = await readBounded(configFile, limits.configBytes, `${description}: config ${entry.Config}`, notInArchive);
      const config = parseJson(imageConfigSchema, configBytes, `${description}: config ${entry.Config}`);
      if (config.rootfs.diff_ids.length !== entry.Layers.length) {
        throw new SyscontainerError('EMANIFEST', `${description}: config lists ${config.rootfs.diff_ids.length} diff_ids for ${entry.Layers.length} layers`);
      }
      const configDigest = sha256Digest(configBytes);
      files.set(configDigest, configFile);
      const layers: Descriptor[] = [];
      for (const layer of entry.Layers) {
        const file = located(layer, 'layer');
        const stats = await lstat(file).catch(() => undefined);
        if (stats === undefined || !stats.isFile()) throw new SyscontainerError('EMANIFEST', `${description}: layer ${layer} is not in the archive`);
        const described = await describeFile(file);
        files.set(described.digest, file);
        layers.push(described);
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
        layers,
      };
      const bytes = Buffer.from(JSON.stringify(manifest));
      const digest = sha256Digest(bytes);
      return new DockerArchiveSource(description, imageName, dir, { bytes, mediaType: MediaType.ociManifest, digest }, files);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes the temporary extraction. Idempotent. */
  async close(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** The made manifest, for '' (the archive's image) or its digest. */
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    if (reference !== '' && reference !== this.#manifest.digest) {
      throw new SyscontainerError('ENOTFOUND', `${this.description}: no manifest ${reference}`);
    }
    return this.#manifest;
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const file = this.#files.get(descriptor.digest);
    const what = `${this.description}: blob ${descriptor.digest}`;
    if (file === undefined) throw new SyscontainerError('ENOTFOUND', `${what}: not in the archive`);
    return verifiedBlobStream(createReadStream(file), descriptor, what);
  }
}

function pickEntry(list: ArchiveEntry[], name: string | undefined, description: string): ArchiveEntry {
  if (name === undefined) {
    if (list.length > 1) {
      const tags = list.flatMap((entry) => entry.RepoTags ?? []);
      throw new SyscontainerError('EINVAL', `${description}: the archive holds ${list.length} images; name one`, {
        hint: `add :NAME:TAG${tags.length > 0 ? `, one of: ${tags.join(', ')}` : ''}`,
      });
    }
    return list[0]!;
  }
  const found = list.find((entry) => (entry.RepoTags ?? []).some((tag) => withTag(tag) === name));
  if (found === undefined) throw new SyscontainerError('ENOTFOUND', `${description}: no image ${name} in the archive`);
  return found;
}
