// Docker's multiplexed stream (moby api/pkg/stdcopy): for a container without a TTY, attach,
// logs and exec output are frames of an 8-byte header {stream, 0, 0, 0, size as uint32 BE}
// followed by `size` bytes. Stream 0 stdin, 1 stdout, 2 stderr, 3 an error of the server.
export type StreamKind = 'stdin' | 'stdout' | 'stderr' | 'system';

const streamIds: Record<StreamKind, number> = { stdin: 0, stdout: 1, stderr: 2, system: 3 };
const streamKinds: StreamKind[] = ['stdin', 'stdout', 'stderr', 'system'];
/** Frames are cut at this size, so one huge write does not become one huge allocation on the client. */
const maxFramePayload = 32 * 1024;

/** One or more frames holding `data` on `stream` (none for empty data). */
export function encodeFrames(stream: StreamKind, data: Uint8Array | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += maxFramePayload) {
    const payload = bytes.subarray(offset, Math.min(bytes.length, offset + maxFramePayload));
    const header = Buffer.alloc(8);
    header[0] = streamIds[stream];
    header.writeUInt32BE(payload.length, 4);
    parts.push(header, payload);
  }
  return Buffer.concat(parts);
}

export interface Frame {
  stream: StreamKind;
  data: Buffer;
}

/**
 * Splits a byte stream into frames, whatever the chunk boundaries. Throws on a header a
 * server never sends (unknown stream id, non-zero padding), as docker's stdcopy does.
 */
export class FrameDecoder {
  private pending = Buffer.alloc(0);

  push(chunk: Uint8Array): Frame[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= 8) {
      const id = this.pending[0] as number;
      const kind = streamKinds[id];
      if (kind === undefined || this.pending[1] !== 0 || this.pending[2] !== 0 || this.pending[3] !== 0) {
        throw new Error(`not a multiplexed stream header: ${this.pending.subarray(0, 8).toString('hex')}`);
      }
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      frames.push({ stream: kind, data: this.pending.subarray(8, 8 + size) });
      this.pending = this.pending.subarray(8 + size);
    }
    return frames;
  }

  /** Bytes of an incomplete frame left at the end. */
  get leftover(): number {
    return this.pending.length;
  }
}
