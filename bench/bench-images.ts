// The benchmark's test images, written as an OCI layout (streamed: tar → gzip → file, so
// memory stays small whatever the size). Deterministic: the same scale gives the same
// digests on every run of the same zlib.
//   large   4 gzip layers: many small text files; big binary-like files; medium mixed data
//           files; an update layer with whiteouts (files and a directory), an opaque
//           directory, modified files, new files, a hardlink. Scale 1: about 590 MB and
//           15,000+ visible files uncompressed.
//   sibling the same files with 2% of the small ones changed and a different marker in each
//           layer: most file content is shared with `large`, no layer is.
// Both carry the host's static busybox as /bin/busybox (first layer) and a config command that
// prints one line at once and then sleeps (until SIGTERM), so that the install and start
// measurements have a container that runs; the large image has no shell of its own.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { intFor, mixedFor, textFor } from './content.js';
import { sha256Digest } from '../common/digest.js';
import { Meter } from '../common/metering.js';
import { layerTar, type TarEntry } from './layer-tar.js';

/** Bumped whenever the generator changes, so a cached layout is not reused by mistake. */
const generatorVersion = 6;

const MiB = 1024 * 1024;
const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const ociConfig = 'application/vnd.oci.image.config.v1+json';
const ociLayerGzip = 'application/vnd.oci.image.layer.v1.tar+gzip';
const refNameKey = 'org.opencontainers.image.ref.name';

/** Debian's busybox-static: no dynamic loader needed, so it runs in an image without libc. */
export const busyboxPath = '/bin/busybox';
/** The line the images' command prints first; the start measurement waits for it. */
export const readyLine = 'bench ready';
/** The images' command: print a line at once, then sleep; exit 0 on SIGTERM (sh as PID 1 would ignore it). */
export const imageCommand = ['/bin/busybox', 'sh', '-c', `trap 'exit 0' TERM; echo ${readyLine}; /bin/busybox sleep 86400 & wait`];

export type Variant = 'large' | 'sibling' | 'small';

export interface WrittenLayer {
  digest: string;
  diffId: string;
  /** Compressed. */
  size: number;
  uncompressedSize: number;
  /** Regular-file entries in the tar (whiteout markers included). */
  fileEntries: number;
}

export interface WrittenImage {
  /** The tag in the layout's index.json (org.opencontainers.image.ref.name). */
  tag: Variant;
  manifestDigest: string;
  /** The image id podman prints (without "sha256:"). */
  configDigest: string;
  layers: WrittenLayer[];
  compressedBytes: number;
  uncompressedBytes: number;
  fileEntries: number;
}

export interface BenchImages {
  layoutDir: string;
  scale: number;
  /** sha256 of the /bin/busybox put into the images (part of the cache key). */
  busyboxDigest: string;
  large: WrittenImage;
  sibling: WrittenImage;
  /** One layer: busybox and a few directories, for the many-containers and start-up sections. */
  small: WrittenImage;
}

interface Counts {
  small: number;
  big: number;
  medium: number;
  docNew: number;
  confNew: number;
}

function countsFor(scale: number): Counts {
  return {
    small: Math.max(100, Math.round(14_000 * scale)),
    big: Math.max(4, Math.round(20 * scale)),
    medium: Math.max(50, Math.round(3_000 * scale)),
    docNew: Math.max(10, Math.round(300 * scale)),
    confNew: Math.max(20, Math.round(1_500 * scale)),
  };
}

const smallPerDir = 50;
const isDocFile = (i: number): boolean => i % 5 === 0;
const smallPath = (i: number): string => {
  const group = Math.floor(i / smallPerDir);
  return isDocFile(i) ? `usr/share/doc/pkg${group}/README-${i}.txt` : `usr/lib/mod${group}/file-${i}.py`;
};
const isWhitedOut = (i: number): boolean => i % 25 === 3;
const isModified = (i: number): boolean => i % 70 === 11;
/** The directory of small files the update layer removes whole (if the image is big enough). */
const removedGroup = 3;

function marker(variant: Variant, layer: number): TarEntry {
  return { type: 'file', path: `etc/bench-layer-${layer}`, content: Buffer.from(`${variant} layer ${layer}\n`) };
}

function* baseLayer(variant: Variant, n: Counts, busybox: Buffer): Generator<TarEntry> {
  for (const dir of ['bin', 'etc', 'usr', 'usr/lib', 'usr/share', 'usr/share/doc']) yield { type: 'dir', path: dir };
  yield { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 };
  yield marker(variant, 1);
  for (let i = 0; i < n.small; i++) {
    if (i % smallPerDir === 0) {
      const group = i / smallPerDir;
      yield { type: 'dir', path: `usr/lib/mod${group}` };
      yield { type: 'dir', path: `usr/share/doc/pkg${group}` };
    }
    // The sibling differs in 2% of the small files.
    const seed = variant === 'sibling' && i % 50 === 7 ? `small-sibling:${i}` : `small:${i}`;
    yield { type: 'file', path: smallPath(i), content: textFor(seed, intFor(`small-size:${i}`, 256, 12_000)) };
  }
  for (let k = 0; k < 10; k++) yield { type: 'symlink', path: `bin/tool-${k}`, target: `/${smallPath(k * 7 + 1)}` };
}

function* binaryLayer(variant: Variant, n: Counts): Generator<TarEntry> {
  yield { type: 'dir', path: 'usr/bin' };
  yield marker(variant, 2);
  for (let k = 0; k < n.big; k++) {
    const size = intFor(`big-size:${k}`, 10 * MiB, 18 * MiB);
    yield { type: 'file', path: `usr/bin/big-${k}`, content: mixedFor(`big:${k}`, size, 0.6), mode: 0o755 };
  }
}

function* dataLayer(variant: Variant, n: Counts): Generator<TarEntry> {
  yield { type: 'dir', path: 'usr/share/data' };
  yield marker(variant, 3);
  for (let j = 0; j < n.medium; j++) {
    if (j % 100 === 0) yield { type: 'dir', path: `usr/share/data/set${j / 100}` };
    const size = intFor(`medium-size:${j}`, 16 * 1024, 128 * 1024);
    yield { type: 'file', path: `usr/share/data/set${Math.floor(j / 100)}/blob-${j}.bin`, content: mixedFor(`medium:${j}`, size, 0.4) };
  }
}

function* updateLayer(variant: Variant, n: Counts): Generator<TarEntry> {
  yield marker(variant, 4);
  // A whole directory removed, files removed, files replaced.
  if (n.small > (removedGroup + 1) * smallPerDir) yield { type: 'file', path: `usr/lib/.wh.mod${removedGroup}`, content: Buffer.alloc(0) };
  for (let i = 0; i < n.small; i++) {
    if (isDocFile(i) || Math.floor(i / smallPerDir) === removedGroup) continue;
    const path = smallPath(i);
    if (isWhitedOut(i)) {
      const slash = path.lastIndexOf('/');
      yield { type: 'file', path: `${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`, content: Buffer.alloc(0) };
    } else if (isModified(i)) {
      yield { type: 'file', path, content: textFor(`modified:${i}`, intFor(`small-size:${i}`, 256, 12_000)) };
    }
  }
  // usr/share/doc made opaque: everything the base layer put there is hidden.
  yield { type: 'dir', path: 'usr/share/doc' };
  yield { type: 'file', path: 'usr/share/doc/.wh..wh..opq', content: Buffer.alloc(0) };
  yield { type: 'dir', path: 'usr/share/doc/new' };
  for (let k = 0; k < n.docNew; k++) {
    yield { type: 'file', path: `usr/share/doc/new/doc-${k}.txt`, content: textFor(`doc-new:${k}`, intFor(`doc-new-size:${k}`, 256, 12_000)) };
  }
  yield { type: 'dir', path: 'etc/conf.d' };
  for (let k = 0; k < n.confNew; k++) {
    yield { type: 'file', path: `etc/conf.d/app-${k}.conf`, content: textFor(`conf:${k}`, intFor(`conf-size:${k}`, 200, 4_000)) };
  }
  yield { type: 'hardlink', path: 'etc/conf.d/link-0.conf', target: 'etc/conf.d/app-0.conf' };
}

const layerGenerators = [baseLayer, binaryLayer, dataLayer, updateLayer];

export async function writeBlob(blobsDir: string, bytes: Buffer): Promise<string> {
  const digest = sha256Digest(bytes);
  await writeFile(join(blobsDir, digest.slice('sha256:'.length)), bytes);
  return digest;
}

/** Streams one layer: entries → tar (hashed: diff_id) → gzip (hashed: digest) → blob file. */
export async function writeLayer(blobsDir: string, entries: Iterable<TarEntry>, level: number = zlibConstants.Z_DEFAULT_COMPRESSION): Promise<WrittenLayer> {
  let fileEntries = 0;
  const counted = function* (): Generator<TarEntry> {
    for (const entry of entries) {
      if (entry.type === 'file') fileEntries++;
      yield entry;
    }
  };
  const tarMeter = new Meter();
  const blobMeter = new Meter();
  const temporary = join(blobsDir, `.partial-${randomBytes(6).toString('hex')}`);
  await pipeline(
    layerTar(counted()),
    tarMeter,
    createGzip({ level }),
    blobMeter,
    createWriteStream(temporary),
  );
  const digest = blobMeter.digest();
  await rename(temporary, join(blobsDir, digest.slice('sha256:'.length)));
  return { digest, diffId: tarMeter.digest(), size: blobMeter.bytes, uncompressedSize: tarMeter.bytes, fileEntries };
}

async function writeImage(blobsDir: string, variant: Variant, n: Counts, busybox: Buffer): Promise<{ image: WrittenImage; descriptor: object }> {
  // Layers in parallel: gzip runs on libuv's thread pool, one stream per thread.
  const layers = await Promise.all(layerGenerators.map((generate) => writeLayer(blobsDir, generate(variant, n, busybox))));
  const config = {
    created: '1970-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: imageCommand },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: ['base', 'binaries', 'data', 'update'].map((step) => ({ created: '1970-01-01T00:00:00Z', created_by: `bench ${variant} ${step}` })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await writeBlob(blobsDir, configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: ociManifest,
    config: { mediaType: ociConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: ociLayerGzip, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await writeBlob(blobsDir, manifestBytes);
  const image: WrittenImage = {
    tag: variant,
    manifestDigest,
    configDigest,
    layers,
    compressedBytes: layers.reduce((sum, l) => sum + l.size, 0),
    uncompressedBytes: layers.reduce((sum, l) => sum + l.uncompressedSize, 0),
    fileEntries: layers.reduce((sum, l) => sum + l.fileEntries, 0),
  };
  return { image, descriptor: { mediaType: ociManifest, digest: manifestDigest, size: manifestBytes.length, annotations: { [refNameKey]: variant } } };
}

/** The small image: busybox in one layer, the large image's command. */
async function writeSmallImage(blobsDir: string, busybox: Buffer): Promise<{ image: WrittenImage; descriptor: object }> {
  const layer = await writeLayer(blobsDir, (function* (): Generator<TarEntry> {
    for (const dir of ['bin', 'etc', 'tmp', 'var']) yield { type: 'dir', path: dir };
    yield { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 };
    yield marker('small', 1);
  })());
  const config = {
    created: '1970-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: imageCommand },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await writeBlob(blobsDir, configBytes);
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: ociManifest,
    config: { mediaType: ociConfig, digest: configDigest, size: configBytes.length },
    layers: [{ mediaType: ociLayerGzip, digest: layer.digest, size: layer.size }],
  }));
  const manifestDigest = await writeBlob(blobsDir, manifestBytes);
  const image: WrittenImage = {
    tag: 'small',
    manifestDigest,
    configDigest,
    layers: [layer],
    compressedBytes: layer.size,
    uncompressedBytes: layer.uncompressedSize,
    fileEntries: layer.fileEntries,
  };
  return { image, descriptor: { mediaType: ociManifest, digest: manifestDigest, size: manifestBytes.length, annotations: { [refNameKey]: 'small' } } };
}

/** Whether an ELF file asks for a program interpreter (PT_INTERP): a dynamic binary. */
function isDynamicElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2) return true; // not ELF64: unusable
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return true;
    if (bytes.readUInt32LE(at) === 3) return true;
  }
  return false;
}

async function readStaticBusybox(): Promise<Buffer> {
  const bytes = await readFile(busyboxPath).catch((error: unknown) => {
    throw new Error(`bench: ${busyboxPath}: ${(error as Error).message} (install Debian's busybox-static: bash scripts/setup-host.sh does)`);
  });
  if (isDynamicElf(bytes)) throw new Error(`bench: ${busyboxPath} is not a static x86-64 ELF binary (install Debian's busybox-static)`);
  return bytes;
}

/**
 * Writes both images into the OCI layout `layoutDir` (created; an existing one is replaced),
 * unless it already holds a complete layout of this generator version and scale, which is
 * reused. The summary file is written last, so a half-written layout is never reused.
 */
export async function writeBenchImages(layoutDir: string, scale: number): Promise<BenchImages> {
  const summaryFile = join(layoutDir, 'bench-images.json');
  const busybox = await readStaticBusybox();
  const busyboxDigest = sha256Digest(busybox);
  try {
    const cached = JSON.parse(await readFile(summaryFile, 'utf8')) as BenchImages & { generatorVersion: number };
    if (cached.generatorVersion === generatorVersion && cached.scale === scale && cached.busyboxDigest === busyboxDigest) return { ...cached, layoutDir };
  } catch {
    // none, or unreadable: build
  }
  await rm(layoutDir, { recursive: true, force: true });
  const blobsDir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const n = countsFor(scale);
  const large = await writeImage(blobsDir, 'large', n, busybox);
  const sibling = await writeImage(blobsDir, 'sibling', n, busybox);
  const small = await writeSmallImage(blobsDir, busybox);
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layoutDir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [large.descriptor, sibling.descriptor, small.descriptor] }),
  );
  const result: BenchImages = { layoutDir, scale, busyboxDigest, large: large.image, sibling: sibling.image, small: small.image };
  await writeFile(summaryFile, JSON.stringify({ ...result, generatorVersion }, null, 2));
  return result;
}
