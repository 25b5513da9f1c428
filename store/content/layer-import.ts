// Imports one layer blob into the repository:
//   verified raw stream → decompress → sha256 + size of the tar (diff_id) → tar filter →
//   `ostree commit --orphan` → (checks) → commit with metadata → ref ociimage/<hex>.
// Everything streams with backpressure: no copy of the layer is held in memory or on disk.
// The ref is the last step and is written only when the raw stream ended cleanly (the source
// verified digest and size), the diff_id matched, the size is within bounds and ostree
// succeeded. On any failure there is no ref; the orphan commits are removed by prune().
import { pipeline, type Readable } from 'node:stream';
import { shortDigest } from '../../common/digest.js';
import { IntegrityError, SyscontainerError } from '../../common/errors.js';
import { Meter } from '../../common/metering.js';
import { createDecompressor } from './decompress.js';
import { digestPattern, layerCompression, type Descriptor } from '../oci/oci-types.js';
import type { OstreeRepo } from '../ostree/ostree-repo.js';
import { blobRef } from '../ref-names.js';
import { filterLayerTar, type DroppedEntry } from './tar-filter.js';

export const layerMetadataKeys = {
  size: 'docker.size',
  uncompressedSize: 'docker.uncompressed_size',
  uncompressedDigest: 'docker.uncompressed_digest',
} as const;

/** Default bound on a layer's uncompressed size (decompression bombs): 64 GiB. */
export const defaultMaxUncompressedBytes = 64 * 1024 ** 3;

export interface LayerProgress {
  digest: string;
  /** Compressed bytes read so far, and the total from the descriptor. */
  bytes: number;
  total: number;
  uncompressedBytes: number;
}

export interface LayerImportOptions {
  /** ELIMIT when the tar is larger than this. Default defaultMaxUncompressedBytes. */
  maxUncompressedBytes?: number;
  /** ELIMIT when the tar has more entries. Default 1,000,000. */
  maxEntries?: number;
}

export interface StoredLayer {
  digest: string;
  commit: string;
  /** Compressed size (docker.size). */
  size: number;
  uncompressedSize: number;
  diffId: string;
}

export interface ImportedLayer extends StoredLayer {
  /** True when the layer was already stored and nothing was read. */
  skipped: boolean;
  /** Entries the tar filter left out (device nodes, FIFOs); see TarFilterReport. */
  dropped: DroppedEntry[];
  droppedCount: number;
}

/**
 * The stored layer for `digest`: its ref exists and its commit carries the size and diff_id
 * metadata (as atomic/skopeo wrote them). Undefined otherwise — then it must be (re)imported.
 */
export async function storedLayer(repo: OstreeRepo, digest: string): Promise<StoredLayer | undefined> {
  const commit = await repo.resolveRef(blobRef(digest));
  if (commit === undefined) return undefined;
  const metadata = await repo.commitMetadata(commit);
  const size = Number(metadata[layerMetadataKeys.size]);
  const uncompressedSize = Number(metadata[layerMetadataKeys.uncompressedSize]);
  const diffId = metadata[layerMetadataKeys.uncompressedDigest];
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(uncompressedSize) || !diffId || !digestPattern.test(diffId)) {
    return undefined;
  }
  return { digest, commit, size, uncompressedSize, diffId };
}

/** Whether the layer is stored (ref + metadata): a pull skips its download. */
export async function hasLayer(repo: OstreeRepo, digest: string): Promise<boolean> {
  return (await storedLayer(repo, digest)) !== undefined;
}

/** Maps decompressor failures (corrupt or truncated data) to ELAYER; keeps our own errors. */
function describeStageError(error: unknown, what: string, compression: string): Error {
  if (error instanceof SyscontainerError) return error;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new SyscontainerError('ELAYER', `${what}: ${compression} data is corrupt or truncated: ${message}`, { cause: error });
}

/**
 * Imports a layer from `verifiedStream` (raw blob bytes that error with IntegrityError on a
 * digest/size mismatch). Consumes or destroys the stream in every case. Idempotent: a layer
 * already stored is not read again (the stream is destroyed) and `skipped` is true.
 * Errors: EMANIFEST (media type), EINTEGRITY (stream, size or diff_id), ELAYER (corrupt
 * compression, hostile tar), ELIMIT, ESTORE. No ref exists after an error.
 */
export async function importLayer(
  repo: OstreeRepo,
  descriptor: Descriptor,
  verifiedStream: Readable,
  expectedDiffId: string,
  onProgress?: (progress: LayerProgress) => void,
  options: LayerImportOptions = {},
): Promise<ImportedLayer> {
  const what = `layer ${shortDigest(descriptor.digest)}`;
  const compression = layerCompression(descriptor.mediaType);
  if (compression === undefined || !digestPattern.test(expectedDiffId)) {
    verifiedStream.destroy();
    if (compression === undefined) throw new SyscontainerError('EMANIFEST', `${what}: unsupported media type ${descriptor.mediaType}`);
    throw new SyscontainerError('EMANIFEST', `${what}: diff_id ${expectedDiffId} is not a sha256 digest`);
  }
  const existing = await storedLayer(repo, descriptor.digest);
  if (existing) {
    verifiedStream.destroy();
    if (existing.diffId !== expectedDiffId) throw new IntegrityError(`${what} diff_id (stored)`, expectedDiffId, existing.diffId);
    return { ...existing, skipped: true, dropped: [], droppedCount: 0 };
  }

  const maxUncompressed = options.maxUncompressedBytes ?? defaultMaxUncompressedBytes;
  let lastReport = 0;
  const report = (force = false): void => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - lastReport < 100) return;
    lastReport = now;
    onProgress({ digest: descriptor.digest, bytes: raw.bytes, total: descriptor.size, uncompressedBytes: tarMeter.bytes });
  };
  const raw = new Meter({
    hash: false,
    limit: descriptor.size,
    onLimit: () => new IntegrityError(`${what} size`, String(descriptor.size), `more than ${descriptor.size} bytes`),
    onChunk: () => report(),
    highWaterMark: 256 * 1024,
  });
  const tarMeter = new Meter({
    limit: maxUncompressed,
    onLimit: () => new SyscontainerError('ELIMIT', `${what}: uncompressed size exceeds ${maxUncompressed} bytes`, { hint: 'raise maxUncompressedBytes if this layer is genuine' }),
    highWaterMark: 256 * 1024,
  });

  // The first error of a source stage wins over the consequences it causes downstream
  // (premature close, EPIPE, "malformed tar: unexpected end").
  let stageError: Error | undefined;
  const decompressor = createDecompressor(compression);
  const stages = [verifiedStream, raw, decompressor, tarMeter];
  for (const stage of stages) {
    stage.on('error', (error: NodeJS.ErrnoException) => {
      // An abort: the stage was torn down because a later one (the tar filter) failed first.
      const aborted = error?.code === 'ABORT_ERR' || error?.name === 'AbortError';
      if (stageError === undefined && error?.code !== 'ERR_STREAM_PREMATURE_CLOSE' && !aborted) {
        stageError = describeStageError(error, what, compression);
      }
    });
  }
  const stagesDone = new Promise<void>((resolve) => {
    pipeline(verifiedStream, raw, decompressor, tarMeter, () => resolve());
  });

  const filter = filterLayerTar(tarMeter, { what, maxEntries: options.maxEntries });
  let tarCommit: string | undefined;
  let commitError: unknown;
  try {
    tarCommit = await repo.commitTar(filter.output, { metadata: {} });
  } catch (error) {
    commitError = error;
  }
  let filterError: unknown;
  const filterReport = await filter.done.catch((error: unknown) => {
    filterError = error;
    return undefined;
  });
  await stagesDone;
  // Root cause first: a source stage (integrity, corrupt compression, size bound), then
  // ostree's own failure, then the filter's verdict on the tar.
  if (stageError) throw stageError;
  if (commitError instanceof SyscontainerError) throw commitError;
  if (filterError !== undefined) throw filterError;
  if (commitError !== undefined || tarCommit === undefined || filterReport === undefined) throw commitError;
  report(true);

  if (raw.bytes !== descriptor.size) {
    throw new IntegrityError(`${what} size`, String(descriptor.size), String(raw.bytes));
  }
  const diffId = tarMeter.digest();
  if (diffId !== expectedDiffId) throw new IntegrityError(`${what} diff_id`, expectedDiffId, diffId);

  // The metadata commit sets the ref itself: one ostree process fewer per layer.
  const commit = await repo.commitTreeOf(
    tarCommit,
    {
      [layerMetadataKeys.size]: String(descriptor.size),
      [layerMetadataKeys.uncompressedSize]: String(tarMeter.bytes),
      [layerMetadataKeys.uncompressedDigest]: diffId,
    },
    { ref: blobRef(descriptor.digest) },
  );
  return {
    digest: descriptor.digest,
    commit,
    size: descriptor.size,
    uncompressedSize: tarMeter.bytes,
    diffId,
    skipped: false,
    dropped: filterReport.dropped,
    droppedCount: filterReport.droppedCount,
  };
}
