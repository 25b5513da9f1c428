// Sanitises a layer tar on its way into `ostree commit --tree=tar=-`.
//
// The tar is parsed (tar-stream) and written again from the parsed headers, so what ostree's
// libarchive reads is exactly what was checked here: no second opinion on long names, pax
// records or prefixes. File contents pass through as they are.
//
// Per entry:
// - absolute paths and `..` components: rejected (ELAYER naming the entry); `./` prefixes and
//   empty components are normalised away; the root entry itself is left out.
// - hardlinks: the target obeys the same rules and must be an earlier non-directory entry of
//   the same tar (ostree resolves it inside the commit being built).
// - character/block devices and FIFOs: dropped (a bare OSTree repo cannot hold them); each one
//   is reported in TarFilterReport.dropped and on NODE_DEBUG=syscontainer.
// - whiteouts (`.wh.NAME`, `.wh..wh..opq`) are ordinary files here and kept, as Atomic did;
//   checkout applies them.
// - setuid/setgid/sticky and unusual permission bits are kept as they are.
// - pax records: bounded by tar-stream (4 MiB per header); only ownership, times and
//   xattrs whose value survives UTF-8 decoding are carried over.
// - unknown entry types (GNU sparse, volume labels, ...): rejected.
import { PassThrough, type Readable } from 'node:stream';
import { debuglog } from 'node:util';
import tar from 'tar-stream';
import { SyscontainerError } from '../../common/errors.js';

const debug = debuglog('syscontainer');

export interface TarFilterOptions {
  /** Names the tar in messages, e.g. "layer sha256:ab12…". */
  what: string;
  /** Upper bound on the number of entries (ELIMIT beyond). Default 1,000,000. */
  maxEntries?: number;
}

export interface DroppedEntry {
  path: string;
  reason: string;
}

export interface TarFilterReport {
  /** Entries written to the output. */
  entries: number;
  /** Entries left out (at most the first 100 are listed; droppedCount counts all). */
  dropped: DroppedEntry[];
  droppedCount: number;
}

export interface TarFilter {
  /** The sanitised tar. Errors (ELAYER, ELIMIT, or the input's own error) instead of ending. */
  output: Readable;
  /** Settles when the whole input has been read and the output ended, or on the first error. */
  done: Promise<TarFilterReport>;
}

export const defaultMaxEntries = 1_000_000;
const maxPathBytes = 4096;
const maxComponentBytes = 255;

const keptPaxKeys = new Set(['uid', 'gid', 'uname', 'gname', 'mtime', 'atime', 'ctime']);
const xattrPaxPrefixes = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

/**
 * Normalises a path from a tar header: strips `./` and empty components. Throws ELAYER for an
 * absolute path, a `..` component, a NUL byte or an overlong name. Returns '' for the root.
 */
export function normaliseEntryPath(name: string, what: string, field = 'entry'): string {
  const bad = (fault: string): SyscontainerError =>
    new SyscontainerError('ELAYER', `${what}: ${field} ${JSON.stringify(name)} ${fault}`);
  if (name.includes('\0')) throw bad('contains a NUL byte');
  if (name.startsWith('/')) throw bad('is an absolute path');
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw bad('has a ".." component');
  const path = parts.join('/');
  if (Buffer.byteLength(path) > maxPathBytes) throw bad(`is longer than ${maxPathBytes} bytes`);
  if (parts.some((part) => Buffer.byteLength(part) > maxComponentBytes)) {
    throw bad(`has a component longer than ${maxComponentBytes} bytes`);
  }
  return path;
}

function keptPax(pax: Record<string, string> | null | undefined): Record<string, string> | undefined {
  if (!pax) return undefined;
  const out: Record<string, string> = {};
  let any = false;
  for (const [key, value] of Object.entries(pax)) {
    const isXattr = xattrPaxPrefixes.some((prefix) => key.startsWith(prefix));
    if (!keptPaxKeys.has(key) && !isXattr) continue;
    // tar-stream decodes pax values as UTF-8; a binary value (e.g. security.capability) would
    // come out altered, and a wrong capability is worse than none.
    if (value.includes('\uFFFD')) continue;
    out[key] = value;
    any = true;
  }
  return any ? out : undefined;
}

/** Reads an entry's body to its end without using it. */
function skip(entry: { resume(): unknown }): void {
  entry.resume();
}

function waitWritable(stream: { once(event: string, fn: (...args: unknown[]) => void): unknown; off(event: string, fn: (...args: unknown[]) => void): unknown }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error instanceof Error ? error : new Error('stream closed'));
    };
    const onClose = (): void => onError(new Error('stream closed'));
    const cleanup = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** Wraps tar-stream's own parse errors (bad checksum, oversized pax, truncation) as ELAYER. */
function asLayerError(error: unknown, what: string): Error {
  if (error instanceof SyscontainerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SyscontainerError('ELAYER', `${what}: malformed tar: ${message}`, { cause: error });
}

/**
 * Reads `input` (an uncompressed tar) and yields a sanitised tar. The filter consumes `input`
 * to its end (so a digest computed upstream covers every byte) and destroys it on error.
 */
export function filterLayerTar(input: Readable, options: TarFilterOptions): TarFilter {
  const { what } = options;
  const maxEntries = options.maxEntries ?? defaultMaxEntries;
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  const pack = tar.pack();
  // Errors reach callers through `done` and `output`; these listeners only keep an error
  // emitted after iteration stopped from becoming an uncaught exception.
  extract.on('error', () => undefined);
  pack.on('error', () => undefined);
  const report: TarFilterReport = { entries: 0, dropped: [], droppedCount: 0 };
  const nonDirectories = new Set<string>();
  let failed: Error | undefined;

  const fail = (error: unknown): Error => {
    if (failed) return failed;
    failed = asLayerError(error, what);
    input.destroy();
    extract.destroy(failed);
    pack.destroy(failed);
    return failed;
  };

  const drop = (path: string, reason: string): void => {
    report.droppedCount++;
    if (report.dropped.length < 100) report.dropped.push({ path, reason });
    debug('%s: dropped %s (%s)', what, path, reason);
  };

  const feed = async (): Promise<void> => {
    for await (const chunk of input) {
      if (failed) return;
      if (!extract.write(chunk as Buffer)) await waitWritable(extract as never);
    }
    (extract as unknown as { end(): void }).end();
  };

  const rewrite = async (): Promise<void> => {
    for await (const entry of extract) {
      const header = entry.header;
      if (report.entries + report.droppedCount >= maxEntries) {
        throw new SyscontainerError('ELIMIT', `${what}: more than ${maxEntries} entries`);
      }
      const path = normaliseEntryPath(header.name, what);
      let type = header.type;
      if (type === 'contiguous-file') type = 'file';
      switch (type) {
        case 'file':
        case 'directory':
        case 'symlink':
        case 'link':
          break;
        case 'character-device':
        case 'block-device':
        case 'fifo':
          drop(path || '.', `${type} (a bare ostree repo cannot hold it)`);
          skip(entry);
          continue;
        default:
          throw new SyscontainerError('ELAYER', `${what}: entry ${JSON.stringify(header.name)} has an unsupported type`);
      }
      if (path === '') {
        // The root entry ("./"): the checkout's root is made by us, not by a layer.
        if (type !== 'directory') throw new SyscontainerError('ELAYER', `${what}: root entry is not a directory`);
        skip(entry);
        continue;
      }
      let linkname: string | undefined;
      if (type === 'link') {
        linkname = normaliseEntryPath(header.linkname ?? '', what, `hardlink target of ${JSON.stringify(header.name)}:`);
        if (!nonDirectories.has(linkname) || linkname === path) {
          throw new SyscontainerError('ELAYER', `${what}: hardlink ${JSON.stringify(header.name)} points to ${JSON.stringify(header.linkname)}, which is not an earlier file of this layer`);
        }
      } else if (type === 'symlink') {
        // Symlink targets are resolved inside the container at run time; checkout guards
        // against later layers writing through them.
        linkname = header.linkname ?? '';
        if (linkname.includes('\0')) throw new SyscontainerError('ELAYER', `${what}: symlink ${JSON.stringify(header.name)} target contains a NUL byte`);
      }
      if (type !== 'directory') nonDirectories.add(path);
      const out: Partial<tar.Header> & { name: string } = {
        name: path,
        type,
        // OR in S_IFREG: tar-stream treats mode 0 as "unset" and would write 0644; the type
        // bits are masked off when the header is encoded.
        mode: ((header.mode ?? 0) & 0o7777) | 0o100000,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        uname: header.uname ?? '',
        gname: header.gname ?? '',
        mtime: header.mtime ?? new Date(0),
        size: type === 'file' ? header.size ?? 0 : 0,
      };
      if (linkname !== undefined) out.linkname = linkname;
      const pax = keptPax(header.pax as Record<string, string> | null | undefined);
      if (pax) out.pax = pax;
      report.entries++;
      await new Promise<void>((resolve, reject) => {
        const callback = (error?: Error | null): void => (error ? reject(error) : resolve());
        // An empty file gets an empty body, or its sink would wait for an end that never comes.
        const sink = type === 'file' && out.size === 0 ? pack.entry(out, Buffer.alloc(0), callback) : pack.entry(out, callback);
        sink.on('error', reject);
        if (type === 'file' && (out.size ?? 0) > 0) {
          entry.on('error', reject);
          entry.pipe(sink);
        } else {
          skip(entry);
        }
      });
    }
    pack.finalize();
  };

  const done = Promise.all([feed(), rewrite()]).then(
    () => {
      if (failed) throw failed;
      return report;
    },
    (error: unknown) => {
      throw fail(error);
    },
  );
  done.catch(() => undefined); // observed through `output` as well; never unhandled
  const output = new PassThrough({ highWaterMark: 256 * 1024 });
  void (async () => {
    try {
      for await (const chunk of pack) {
        if (!output.write(chunk as Buffer)) await waitWritable(output);
      }
      if (failed) throw failed;
      output.end();
    } catch (error) {
      output.destroy(fail(error));
    }
  })();
  return { output, done };
}
