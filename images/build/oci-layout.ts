// Writes built images into an OCI image layout directory (what `skopeo copy ... oci:DIR:TAG`
// makes): `oci-layout`, `index.json` whose entries carry the tag in the
// org.opencontainers.image.ref.name annotation, and `blobs/sha256/<hex>`. Reading a layout
// lives in store/oci-layout-source.ts (the store must not import images/); re-exported here.
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SyscontainerError } from '../../store/errors.js';
import { layoutBlobPath, ociLayoutVersion, readOciLayoutIndex, refNameAnnotation } from '../../store/oci-layout-source.js';
import { type Descriptor, type ImageIndex, MediaType } from '../../store/oci-types.js';
import { type BuiltImage, type BuiltIndex, contentBlobs, manifestBlobs } from './image.js';
import { buildLayer, type LayerEntry } from './layer.js';

export {
  OciLayoutSource,
  findLayoutEntry,
  layoutBlobPath,
  parseOciLayoutSpec,
  readOciLayoutIndex,
  refNameAnnotation,
} from '../../store/oci-layout-source.js';

export interface LayoutItem {
  image: BuiltImage | BuiltIndex;
  /** Written as the entry's ref.name annotation; untagged entries are only reachable by digest. */
  tag?: string;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Writes `bytes` to `file` through a temporary name in the same directory, so readers never see half a file. */
async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const temp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, bytes, { mode: 0o644 });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Stores a blob under its digest unless it is already there (content-addressed, so the same bytes). */
async function putBlob(dir: string, descriptor: Descriptor, bytes: Buffer): Promise<void> {
  const file = layoutBlobPath(dir, descriptor.digest);
  if (await exists(file)) return;
  await writeAtomic(file, bytes);
}

/**
 * Adds the items to the layout at `dir`, creating it when missing. Idempotent; an entry whose
 * tag is already in index.json is replaced, other entries are kept. Blobs are written before
 * index.json, and index.json is replaced atomically, so the layout is never inconsistent.
 * Returns the new index.json.
 */
export async function writeOciLayout(dir: string, items: LayoutItem[]): Promise<ImageIndex> {
  const hasLayout = await exists(path.join(dir, 'oci-layout'));
  if (!hasLayout && (await readdir(dir).catch(() => [] as string[])).some((name) => name !== 'blobs')) {
    throw new SyscontainerError('EEXIST', `${dir}: not empty and not an OCI layout`);
  }
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const existing: ImageIndex = hasLayout ? await readOciLayoutIndex(dir) : { schemaVersion: 2, manifests: [] };

  for (const { image } of items) {
    for (const blob of [...contentBlobs(image), ...manifestBlobs(image)]) await putBlob(dir, blob.descriptor, blob.bytes);
  }
  const tags = new Set(items.flatMap((item) => (item.tag === undefined ? [] : [item.tag])));
  const kept = existing.manifests.filter((d) => {
    const tag = d.annotations?.[refNameAnnotation];
    return tag === undefined || !tags.has(tag);
  });
  const added: Descriptor[] = items.map(({ image, tag }) => ({
    ...('images' in image ? image.indexDescriptor : image.manifestDescriptor),
    ...(tag !== undefined ? { annotations: { [refNameAnnotation]: tag } } : {}),
  }));
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, ...added] };
  if (!hasLayout) await writeAtomic(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: ociLayoutVersion }));
  await writeAtomic(path.join(dir, 'index.json'), JSON.stringify(index));
  return index;
}

/**
 * Writes an OCI archive (`oci-archive:FILE`): an uncompressed tar of a layout holding the
 * items. Builds the layout in a temporary directory (removed afterwards) and packs it with
 * the layer builder, so entries are sorted and timestamps fixed. Replaces `file` atomically.
 */
export async function writeOciArchive(file: string, items: LayoutItem[]): Promise<void> {
  const temp = await mkdtemp(path.join(tmpdir(), 'syscontainer-oci-layout-'));
  try {
    await writeOciLayout(temp, items);
    const blobs = await readdir(path.join(temp, 'blobs', 'sha256'));
    const entries: LayerEntry[] = [
      { type: 'file', path: 'oci-layout', content: await readFile(path.join(temp, 'oci-layout')) },
      { type: 'file', path: 'index.json', content: await readFile(path.join(temp, 'index.json')) },
      { type: 'dir', path: 'blobs/' },
      { type: 'dir', path: 'blobs/sha256/' },
    ];
    for (const name of blobs.sort()) {
      entries.push({ type: 'file', path: `blobs/sha256/${name}`, content: await readFile(path.join(temp, 'blobs', 'sha256', name)) });
    }
    const archive = await buildLayer(entries, { compression: 'none' });
    await writeAtomic(file, archive.bytes);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
