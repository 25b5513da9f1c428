// The images of the update, deep and big sections, each in an OCI layout of its own beside
// the main one (LAYOUT-update, LAYOUT-deep, LAYOUT-big), deterministic like the main images.
//   update  v2a: the large image with its small top layer rebuilt (the sibling's layer 4, which
//           differs in its marker file only); v2b: the large image on a rebuilt base layer
//           (the sibling's layer 1: 2% of the small files changed, and the marker). Nothing is
//           generated: the layers are the main layout's, hardlinked, under new configs.
//   deep    deep-N for each N asked: N small layers (20 text files each in a directory of their
//           own, and one file every layer overwrites), deep-N sharing its first layers with the
//           others, so the layers are made once.
//   big     one layer of BIG_BYTES × scale in 64 MiB files, 90% random blocks (gzip barely
//           shrinks it), gzip level 1: the registry's blob, what a pull reads.
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as zlibConstants } from 'node:zlib';
import { imageCommand, writeBlob, writeLayer, type BenchImages, type WrittenImage, type WrittenLayer } from './bench-images.js';
import { mixedFor, textFor } from './content.js';
import type { TarEntry } from './layer-tar.js';

const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const ociConfig = 'application/vnd.oci.image.config.v1+json';
const ociLayerGzip = 'application/vnd.oci.image.layer.v1.tar+gzip';
const refNameKey = 'org.opencontainers.image.ref.name';
const MiB = 1024 * 1024;

/** The big layer's size at scale 1: 4 GiB. */
export const bigBytes = 4 * 1024 * MiB;
const bigFileBytes = 64 * MiB;
/** Bumped whenever a generator here changes, so a cached layout is not reused by mistake. */
const extraGeneratorVersion = 1;

/** Writes config and manifest of an image made of `layers` (blobs already in `blobsDir`); returns it and its index entry. */
async function composeImage(blobsDir: string, tag: string, layers: WrittenLayer[]): Promise<{ image: WrittenImage & { tag: string }; descriptor: object }> {
  const config = {
    created: '1970-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: imageCommand },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await writeBlob(blobsDir, configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: ociManifest,
      config: { mediaType: ociConfig, digest: configDigest, size: configBytes.length },
      layers: layers.map((layer) => ({ mediaType: ociLayerGzip, digest: layer.digest, size: layer.size })),
    }),
  );
  const manifestDigest = await writeBlob(blobsDir, manifestBytes);
  const image = {
    tag: tag as WrittenImage['tag'],
    manifestDigest,
    configDigest,
    layers,
    compressedBytes: layers.reduce((sum, layer) => sum + layer.size, 0),
    uncompressedBytes: layers.reduce((sum, layer) => sum + layer.uncompressedSize, 0),
    fileEntries: layers.reduce((sum, layer) => sum + layer.fileEntries, 0),
  };
  return { image, descriptor: { mediaType: ociManifest, digest: manifestDigest, size: manifestBytes.length, annotations: { [refNameKey]: tag } } };
}

async function writeIndex(layoutDir: string, descriptors: object[]): Promise<void> {
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: descriptors }));
}

export interface UpdateImages {
  layoutDir: string;
  v1: WrittenImage;
  /** One small top layer changed. */
  v2a: WrittenImage;
  /** The base layer rebuilt, 2% of its files changed. */
  v2b: WrittenImage;
}

/** The update section's images (cheap: links and two configs each time). */
export async function writeUpdateImages(images: BenchImages): Promise<UpdateImages> {
  const layoutDir = `${images.layoutDir}-update`;
  await rm(layoutDir, { recursive: true, force: true });
  const blobsDir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const [l1, l2, l3, l4] = images.large.layers as [WrittenLayer, WrittenLayer, WrittenLayer, WrittenLayer];
  const [s1, , , s4] = images.sibling.layers as [WrittenLayer, WrittenLayer, WrittenLayer, WrittenLayer];
  for (const layer of [l1, l2, l3, l4, s1, s4]) {
    const hex = layer.digest.slice('sha256:'.length);
    await link(join(images.layoutDir, 'blobs', 'sha256', hex), join(blobsDir, hex));
  }
  const v1 = await composeImage(blobsDir, 'v1', [l1, l2, l3, l4]);
  const v2a = await composeImage(blobsDir, 'v2a', [l1, l2, l3, s4]);
  const v2b = await composeImage(blobsDir, 'v2b', [s1, l2, l3, l4]);
  await writeIndex(layoutDir, [v1.descriptor, v2a.descriptor, v2b.descriptor]);
  return { layoutDir, v1: v1.image, v2a: v2a.image, v2b: v2b.image };
}

/** Layer k of the deep images: its own directory of 20 text files, and the file every layer overwrites. */
function* deepLayer(k: number): Generator<TarEntry> {
  if (k === 0) for (const dir of ['etc', 'usr', 'usr/lib', 'usr/lib/deep']) yield { type: 'dir', path: dir };
  yield { type: 'dir', path: `usr/lib/deep/layer-${k}` };
  for (let j = 0; j < 20; j++) yield { type: 'file', path: `usr/lib/deep/layer-${k}/file-${j}.txt`, content: textFor(`deep:${k}:${j}`, 2048) };
  yield { type: 'file', path: 'etc/deep-layer', content: Buffer.from(`layer ${k}\n`) };
}

interface CachedSummary<T> {
  extraGeneratorVersion: number;
  key: string;
  value: T;
}

async function cached<T>(layoutDir: string, key: string, make: () => Promise<T>): Promise<T> {
  const summaryFile = join(layoutDir, 'bench-images.json');
  try {
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as CachedSummary<T>;
    if (summary.extraGeneratorVersion === extraGeneratorVersion && summary.key === key) return summary.value;
  } catch {
    // none, or unreadable: build
  }
  await rm(layoutDir, { recursive: true, force: true });
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const value = await make();
  await writeFile(summaryFile, JSON.stringify({ extraGeneratorVersion, key, value }, null, 2));
  return value;
}

export interface DeepImages {
  layoutDir: string;
  /** By layer count. */
  images: Record<number, WrittenImage>;
}

/** deep-N for each of `counts` (rising), reused from LAYOUT-deep when it holds them. */
export async function writeDeepImages(mainLayoutDir: string, counts: number[]): Promise<DeepImages> {
  const layoutDir = `${mainLayoutDir}-deep`;
  const images = await cached(layoutDir, counts.join(','), async () => {
    const blobsDir = join(layoutDir, 'blobs', 'sha256');
    const layers: WrittenLayer[] = [];
    for (let k = 0; k < Math.max(...counts); k++) layers.push(await writeLayer(blobsDir, deepLayer(k)));
    const composed = await Promise.all(counts.map((n) => composeImage(blobsDir, `deep-${n}`, layers.slice(0, n))));
    await writeIndex(layoutDir, composed.map((c) => c.descriptor));
    return Object.fromEntries(counts.map((n, i) => [n, composed[i]!.image])) as Record<number, WrittenImage>;
  });
  return { layoutDir, images };
}

function* bigLayer(bytes: number): Generator<TarEntry> {
  yield { type: 'dir', path: 'usr' };
  yield { type: 'dir', path: 'usr/share' };
  yield { type: 'dir', path: 'usr/share/big' };
  for (let at = 0, k = 0; at < bytes; at += bigFileBytes, k++) {
    yield { type: 'file', path: `usr/share/big/part-${k}.bin`, content: mixedFor(`big-layer:${k}`, Math.min(bigFileBytes, bytes - at), 0.9) };
  }
}

export interface BigImage {
  layoutDir: string;
  image: WrittenImage;
}

/** The one-layer big image (bigBytes × scale of files), reused from LAYOUT-big when it holds it. */
export async function writeBigImage(mainLayoutDir: string, scale: number): Promise<BigImage> {
  const layoutDir = `${mainLayoutDir}-big`;
  const bytes = Math.max(bigFileBytes, Math.round((bigBytes * scale) / bigFileBytes) * bigFileBytes);
  const image = await cached(layoutDir, String(bytes), async () => {
    const blobsDir = join(layoutDir, 'blobs', 'sha256');
    const layer = await writeLayer(blobsDir, bigLayer(bytes), zlibConstants.Z_BEST_SPEED);
    const composed = await composeImage(blobsDir, 'big', [layer]);
    await writeIndex(layoutDir, [composed.descriptor]);
    return composed.image;
  });
  return { layoutDir, image };
}
