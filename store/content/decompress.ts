// Layer (de)compression. gzip runs in-process (node:zlib: about twice as fast as the gzip
// binary here); zstd runs the `zstd` binary, the only place that does (Node 20's zlib has no
// zstd). Every stream here is a plain byte transform: the caller owns both ends and pipes
// with backpressure; a malformed or truncated input makes the stream error, never end.
import { PassThrough, type Duplex } from 'node:stream';
import { createGunzip, gzipSync, constants as zlibConstants } from 'node:zlib';
import { execa } from 'execa';
import type { Compression } from '../oci/oci-types.js';

/** A transform from compressed bytes to the tar bytes. */
export function createDecompressor(compression: Compression): Duplex {
  switch (compression) {
    case 'gzip':
      // Node's gunzip reads concatenated members as one stream, as GNU gzip does.
      return createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd':
      // `buffer: false`: stdout flows through the duplex, never accumulated in memory.
      // zstd refuses frames whose window exceeds 128 MiB by default, which bounds its memory.
      return execa('zstd', ['-d', '-c', '-q'], { buffer: { stdout: false }, stderr: 'pipe', maxBuffer: { stderr: 64 * 1024 } }).duplex();
    case 'none':
      return new PassThrough({ highWaterMark: 256 * 1024 });
  }
}

/**
 * Compresses a whole buffer deterministically (same input, same bytes): gzip with no name and
 * mtime 0 in the header (what node:zlib writes), zstd without checksum variations. For building
 * test and demo layers; pulls never compress.
 */
export async function compressBuffer(bytes: Buffer, compression: Compression): Promise<Buffer> {
  switch (compression) {
    case 'gzip':
      return gzipSync(bytes, { level: zlibConstants.Z_DEFAULT_COMPRESSION });
    case 'zstd': {
      const result = await execa('zstd', ['-c', '-q', '-3', '--no-progress'], { input: bytes, encoding: 'buffer', stripFinalNewline: false });
      return Buffer.from(result.stdout);
    }
    case 'none':
      return bytes;
  }
}
