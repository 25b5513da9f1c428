// The benchmark layers' tar, streamed through tar-stream's pack one entry at a time, so a
// 500 MB layer never sits in memory (images/build/layer.ts collects whole layers as Buffers,
// which is right for tests and too much here). Fixed mtime, uid/gid 0, no user names: the
// same entries give the same bytes.
import { Readable } from 'node:stream';
import tar from 'tar-stream';

export type TarEntry =
  | { type: 'file'; path: string; content: Buffer; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

/** 2001-09-09T01:46:40Z, as images/build/layer.ts uses. */
const mtime = new Date(1_000_000_000 * 1000);

function headerOf(entry: TarEntry): Partial<tar.Header> & { name: string } {
  const common = { name: entry.path, uid: 0, gid: 0, uname: '', gname: '', mtime };
  switch (entry.type) {
    case 'file':
      return { ...common, type: 'file', mode: entry.mode ?? 0o644, size: entry.content.length };
    case 'dir':
      return { ...common, type: 'directory', mode: entry.mode ?? 0o755 };
    case 'symlink':
      return { ...common, type: 'symlink', mode: 0o777, linkname: entry.target };
    case 'hardlink':
      return { ...common, type: 'link', mode: 0o644, linkname: entry.target };
  }
}

/**
 * The tar of `entries`, in order. An entry is added only once pack has taken the one before
 * it (its callback), so the reader's pace sets the generator's.
 */
export function layerTar(entries: Iterable<TarEntry>): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      for (const entry of entries) {
        if (pack.destroyed) return;
        await new Promise<void>((resolve, reject) => {
          const done = (error?: Error | null): void => (error ? reject(error) : resolve());
          if (entry.type === 'file') pack.entry(headerOf(entry), entry.content, done);
          else pack.entry(headerOf(entry), done);
        });
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  // A Node stream over pack's (streamx) chunks, for node:stream pipelines.
  return Readable.from(pack);
}
