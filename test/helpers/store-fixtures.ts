// Fixtures for store tests: temporary stores with real ostree, and images built from layers.
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { buildLayer, type BuildLayerOptions, type BuiltLayer, type LayerEntry } from '../../images/build/layer.js';
import { IntegrityError } from '../../common/errors.js';
import { ImageStore } from '../../store/image-store.js';
import { MediaType, type Descriptor } from '../../store/oci/oci-types.js';
import { removeTree } from '../../common/remove-tree.js';

export async function tempDir(t: ExecutionContext, prefix = 'syscontainer-store-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => removeTree(dir));
  return dir;
}

/** A store in a fresh temporary root; the repository is created on first use. */
export async function tempStore(t: ExecutionContext): Promise<{ root: string; store: ImageStore }> {
  const root = await tempDir(t);
  return { root, store: new ImageStore(root) };
}

export function descriptorOf(layer: Pick<BuiltLayer, 'digest' | 'size' | 'mediaType'>): Descriptor {
  return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
}

/** A stream of `bytes` as a registry client would hand it over (already verified). */
export function verifiedStream(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) chunks.push(bytes.subarray(offset, offset + chunkSize));
  return Readable.from(chunks);
}

/** A stream that delivers part of `bytes`, then fails verification as the registry client would. */
export function failingStream(bytes: Buffer, digest: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes.subarray(0, Math.floor(bytes.length / 2)));
        return;
      }
      this.destroy(new IntegrityError(`blob ${digest.slice(0, 19)}`, digest, 'sha256:0000'));
    },
  });
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

/** Builds layers, a config and a manifest for them (OCI media types). */
export async function buildImage(
  layerSpecs: Array<{ entries: LayerEntry[]; options?: BuildLayerOptions }>,
  configExtra: Record<string, unknown> = {},
): Promise<BuiltImage> {
  const layers: BuiltLayer[] = [];
  for (const spec of layerSpecs) layers.push(await buildLayer(spec.entries, spec.options));
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-02T03:04:05Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
      ...configExtra,
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
      layers: layers.map(descriptorOf),
    }),
  );
  return { layers, config, configDigest, manifest, manifestDigest: sha256(manifest) };
}

/** Imports every blob of `image` and writes it under `name`, as a pull would. */
export async function storeImage(store: ImageStore, name: string, image: BuiltImage): Promise<void> {
  for (const layer of image.layers) {
    await store.importLayer(descriptorOf(layer), verifiedStream(layer.bytes), layer.diffId);
  }
  await store.writeConfig(image.configDigest, image.config);
  await store.writeImage(name, image.manifest, image.manifestDigest);
}
