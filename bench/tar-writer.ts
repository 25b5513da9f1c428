// A minimal streaming ustar writer for the benchmark images: yields the tar as Buffers one
// entry at a time, so a 500 MB layer never sits in memory (images/build/layer.ts builds whole
// layers as Buffers, which is right for tests and too much here). Fixed mtime, uid/gid 0, no
// user names: the same entries give the same bytes.

export type TarEntry =
  | { type: 'file'; path: string; content: Buffer; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

/** 2001-09-09T01:46:40Z, as images/build/layer.ts uses. */
const mtime = 1_000_000_000;
const block = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(entry: TarEntry): Buffer {
  const name = entry.type === 'dir' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar writer: path longer than 100 bytes: ${name}`);
  const buf = Buffer.alloc(block);
  const size = entry.type === 'file' ? entry.content.length : 0;
  const mode = entry.type === 'symlink' ? 0o777 : entry.type === 'hardlink' ? 0o644 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  const typeflag = { file: '0', hardlink: '1', symlink: '2', dir: '5' }[entry.type];
  buf.write(name, 0, 'utf8');
  buf.write(octal(mode, 8), 100, 'ascii');
  buf.write(octal(0, 8), 108, 'ascii');
  buf.write(octal(0, 8), 116, 'ascii');
  buf.write(octal(size, 12), 124, 'ascii');
  buf.write(octal(mtime, 12), 136, 'ascii');
  buf.write(' '.repeat(8), 148, 'ascii');
  buf.write(typeflag, 156, 'ascii');
  if (entry.type === 'symlink' || entry.type === 'hardlink') buf.write(entry.target, 157, 'utf8');
  buf.write('ustar\0', 257, 'ascii');
  buf.write('00', 263, 'ascii');
  buf.write(octal(0, 8), 329, 'ascii');
  buf.write(octal(0, 8), 337, 'ascii');
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return buf;
}

/** The tar of `entries`, in order, ending with the two zero blocks. */
export async function* tarStream(entries: Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield header(entry);
    if (entry.type === 'file' && entry.content.length > 0) {
      yield entry.content;
      const pad = (block - (entry.content.length % block)) % block;
      if (pad > 0) yield Buffer.alloc(pad);
    }
  }
  yield Buffer.alloc(block * 2);
}
