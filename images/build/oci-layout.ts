// Writes built images into an OCI image layout directory (what `skopeo copy ... oci:DIR:TAG`
// makes): `oci-layout`, `index.json` whose entries carry the tag in the
// org.opencontainers.image.ref.name annotation, and `blobs/sha256/<hex>`. Reading a layout
// lives in store/oci-layout-source.ts (the store must not import images/); re-exported here.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { OciLayoutPush } from '../../store/push/oci-layout-push.js';
import { readOciLayoutIndex } from '../../store/sources/oci-layout-source.js';
import type { ImageIndex } from '../../store/oci/oci-types.js';
import type { BuiltImage, BuiltIndex } from './image.js';
import { buildLayer, type LayerEntry } from './layer.js';
import { pushBuiltImage } from './push-image.js';

export {
  OciLayoutSource,
  findLayoutEntry,
  layoutBlobPath,
  parseOciLayoutSpec,
  readOciLayoutIndex,
  refNameAnnotation,
} from '../../store/sources/oci-layout-source.js';

export interface LayoutItem {
  image: BuiltImage | BuiltIndex;
  /** Written as the entry's ref.name annotation; untagged entries are only reachable by digest. */
  tag?: string;
}

/**
 * Adds the items to the layout at `dir`, creating it when missing, through the store's
 * layout push: blobs first, index.json replaced atomically after each item, so the layout is
 * never inconsistent. Idempotent; an entry whose tag is already in index.json is replaced,
 * other entries are kept. Returns the new index.json.
 */
export async function writeOciLayout(dir: string, items: LayoutItem[]): Promise<ImageIndex> {
  const layout = await OciLayoutPush.open(dir);
  let index = await readOciLayoutIndex(dir);
  for (const { image, tag } of items) {
    const { digest } = await pushBuiltImage(layout, 'layout', undefined, image);
    index = await layout.writeIndexEntry(digest, tag);
  }
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
    await writeFileAtomic(file, archive.bytes);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
