// Sanitises a layer tar on its way into `ostree commit --tree=tar=-`.
//
// A pass-through: the tar's headers are read here (store/content/tar-codec.ts, the fields
// tar-stream would read) and checked; an entry that needs no change and whose header is plain
// (ustar without prefix or GNU, octal numbers, no pax or GNU long-name records) goes out as
// its own bytes, header and body, so what ostree's libarchive reads from it is what was
// checked. Every other kept entry gets a header written anew from the checked fields (the
// body still passes as it is); pax and GNU long-name records, global pax headers and end
// blocks are never passed on. Long stretches of file contents are never copied out of the
// input's chunks; small pieces are joined and written out in batches, not one write each.
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
// - pax records: bounded (4 MiB per record set); only ownership, times and xattrs whose value
//   survives UTF-8 decoding are carried over (a global pax header only adds to a later entry's
//   own pax records, as in tar-stream).
// - unknown entry types (GNU sparse, volume labels, ...): rejected.
import { PassThrough, type Readable } from 'node:stream';
import { debuglog } from 'node:util';
import { SyscontainerError } from '../../common/errors.js';
import { blockSize, decodeHeader, decodeLongName, decodePax, encodeHeader, maxLongHeaderBytes, padding, type HeaderFields, type RawHeader } from './tar-codec.js';

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

/** Output is written once this many bytes are waiting (fewer, larger writes to ostree). */
const batchBytes = 256 * 1024;
/**
 * Pieces shorter than this (headers, small files, tails of bodies) are copied together into one
 * buffer; longer ones (body stretches of the decompressor's chunks) are written as they are.
 * Joining every batch whole copied 292 of the bench image's 590 MiB once more, in fresh buffers
 * that V8 then has to collect; joining only the small pieces copies 140 MiB.
 */
const copyBelow = 32 * 1024;

/**
 * Reads `input` (an uncompressed tar) and yields a sanitised tar. The filter consumes `input`
 * to its end (so a digest computed upstream covers every byte) and destroys it on error.
 */
export function filterLayerTar(input: Readable, options: TarFilterOptions): TarFilter {
  const { what } = options;
  const maxEntries = options.maxEntries ?? defaultMaxEntries;
  const output = new PassThrough({ highWaterMark: 256 * 1024 });
  const report: TarFilterReport = { entries: 0, dropped: [], droppedCount: 0 };
  const nonDirectories = new Set<string>();

  const drop = (path: string, reason: string): void => {
    report.droppedCount++;
    if (report.dropped.length < 100) report.dropped.push({ path, reason });
    debug('%s: dropped %s (%s)', what, path, reason);
  };

  // Output, batched: `ready` holds buffers to write in order; `small` the run of small pieces
  // since the last large one, joined into one buffer when a large piece or the flush comes.
  let ready: Buffer[] = [];
  let small: Buffer[] = [];
  let smallBytes = 0;
  let queued = 0;
  const joinSmall = (): void => {
    if (small.length === 0) return;
    ready.push(small.length === 1 ? (small[0] as Buffer) : Buffer.concat(small, smallBytes));
    small = [];
    smallBytes = 0;
  };
  const flush = async (): Promise<void> => {
    joinSmall();
    if (ready.length === 0) return;
    const buffers = ready;
    ready = [];
    queued = 0;
    let writable = true;
    for (const bytes of buffers) writable = output.write(bytes);
    if (!writable) await waitWritable(output);
  };
  const emit = async (bytes: Buffer): Promise<void> => {
    if (bytes.length < copyBelow) {
      small.push(bytes);
      smallBytes += bytes.length;
    } else {
      joinSmall();
      ready.push(bytes);
    }
    queued += bytes.length;
    if (queued >= batchBytes) await flush();
  };

  // Parser state: the body (with its padding) still to pass or skip; a pax or GNU record
  // being collected; the records that apply to the next entry.
  let bodyLeft = 0;
  let passBody = false;
  let longType: RawHeader['type'];
  let longLeft = 0;
  let longChunks: Buffer[] = [];
  let longPadding = 0;
  let pax: Record<string, string> | undefined;
  let paxGlobal: Record<string, string> | undefined;
  let gnuLongPath: string | undefined;
  let gnuLongLinkPath: string | undefined;
  let partial: Buffer[] = [];
  let partialBytes = 0;

  const endLongRecord = (): void => {
    const bytes = Buffer.concat(longChunks);
    longChunks = [];
    switch (longType) {
      case 'gnu-long-path':
        gnuLongPath = decodeLongName(bytes);
        break;
      case 'gnu-long-link-path':
        gnuLongLinkPath = decodeLongName(bytes);
        break;
      case 'pax-global-header':
        paxGlobal = decodePax(bytes);
        break;
      default:
        pax = paxGlobal === undefined ? decodePax(bytes) : { ...paxGlobal, ...decodePax(bytes) };
    }
    bodyLeft = longPadding;
    passBody = false;
  };

  const onHeader = async (block: Buffer): Promise<void> => {
    const raw = decodeHeader(block);
    if (raw === null) return; // an end block: skipped, as tar-stream does; ours are written at the end
    switch (raw.type) {
      case 'pax-header':
      case 'pax-global-header':
      case 'gnu-long-path':
      case 'gnu-long-link-path':
        if (raw.size > maxLongHeaderBytes) throw new Error('Header exceeds max size');
        longType = raw.type;
        longLeft = raw.size;
        longPadding = padding(raw.size);
        if (longLeft === 0) endLongRecord();
        return;
    }
    if (report.entries + report.droppedCount >= maxEntries) {
      throw new SyscontainerError('ELIMIT', `${what}: more than ${maxEntries} entries`);
    }
    // Long names and pax records of this entry.
    let name = raw.name;
    let linkname = raw.linkname;
    let size = raw.size;
    const extended = gnuLongPath !== undefined || gnuLongLinkPath !== undefined || pax !== undefined;
    if (gnuLongPath !== undefined) name = gnuLongPath;
    if (gnuLongLinkPath !== undefined) linkname = gnuLongLinkPath;
    const ownPax = pax;
    if (ownPax !== undefined) {
      if (ownPax.path) name = ownPax.path;
      if (ownPax.linkpath) linkname = ownPax.linkpath;
      if (ownPax.size) size = parseInt(ownPax.size, 10);
    }
    gnuLongPath = undefined;
    gnuLongLinkPath = undefined;
    pax = undefined;
    if (!(size >= 0) || !Number.isSafeInteger(size)) throw new Error('Invalid header');
    const skipBody = (): void => {
      bodyLeft = size + padding(size);
      passBody = false;
    };

    const path = normaliseEntryPath(name, what);
    let type = raw.type;
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
        skipBody();
        return;
      default:
        throw new SyscontainerError('ELAYER', `${what}: entry ${JSON.stringify(name)} has an unsupported type`);
    }
    if (path === '') {
      // The root entry ("./"): the checkout's root is made by us, not by a layer.
      if (type !== 'directory') throw new SyscontainerError('ELAYER', `${what}: root entry is not a directory`);
      skipBody();
      return;
    }
    let target: string | undefined;
    if (type === 'link') {
      target = normaliseEntryPath(linkname ?? '', what, `hardlink target of ${JSON.stringify(name)}:`);
      if (!nonDirectories.has(target) || target === path) {
        throw new SyscontainerError('ELAYER', `${what}: hardlink ${JSON.stringify(name)} points to ${JSON.stringify(linkname ?? null)}, which is not an earlier file of this layer`);
      }
    } else if (type === 'symlink') {
      // Symlink targets are resolved inside the container at run time; checkout guards
      // against later layers writing through them.
      target = linkname ?? '';
      if (target.includes('\0')) throw new SyscontainerError('ELAYER', `${what}: symlink ${JSON.stringify(name)} target contains a NUL byte`);
    }
    if (type !== 'directory') nonDirectories.add(path);
    report.entries++;

    const keptSize = type === 'file' ? size : 0;
    const asItIs =
      raw.plain &&
      !extended &&
      raw.type === type &&
      (path === raw.name || (type === 'directory' && `${path}/` === raw.name)) &&
      Buffer.byteLength(raw.name) === raw.nameBytes &&
      !raw.name.includes('\uFFFD') &&
      (type === 'file' || raw.size === 0) &&
      (target === undefined || (target === raw.linkname && Buffer.byteLength(target) === raw.linknameBytes && !target.includes('\uFFFD')));
    if (asItIs) {
      await emit(block);
    } else {
      const fields: HeaderFields = {
        name: path,
        type,
        mode: raw.mode & 0o7777,
        uid: raw.uid,
        gid: raw.gid,
        size: keptSize,
        mtime: raw.mtime,
        uname: raw.uname,
        gname: raw.gname,
      };
      if (target !== undefined) fields.linkname = target;
      const kept = keptPax(ownPax);
      if (kept) fields.pax = kept;
      await emit(encodeHeader(fields));
    }
    if (keptSize > 0) {
      bodyLeft = size + padding(size);
      passBody = true;
    } else {
      skipBody();
    }
  };

  const run = async (): Promise<void> => {
    for await (const data of input) {
      const chunk = data as Buffer;
      let offset = 0;
      while (offset < chunk.length) {
        if (bodyLeft > 0) {
          const n = Math.min(bodyLeft, chunk.length - offset);
          if (passBody) await emit(chunk.subarray(offset, offset + n));
          offset += n;
          bodyLeft -= n;
          continue;
        }
        if (longLeft > 0) {
          const n = Math.min(longLeft, chunk.length - offset);
          longChunks.push(chunk.subarray(offset, offset + n));
          offset += n;
          longLeft -= n;
          if (longLeft === 0) endLongRecord();
          continue;
        }
        let block: Buffer;
        if (partialBytes === 0 && chunk.length - offset >= blockSize) {
          block = chunk.subarray(offset, offset + blockSize);
          offset += blockSize;
        } else {
          const n = Math.min(blockSize - partialBytes, chunk.length - offset);
          partial.push(chunk.subarray(offset, offset + n));
          partialBytes += n;
          offset += n;
          if (partialBytes < blockSize) continue;
          block = Buffer.concat(partial, blockSize);
          partial = [];
          partialBytes = 0;
        }
        await onHeader(block);
      }
      await flush();
    }
    if (bodyLeft > 0 || longLeft > 0 || partialBytes > 0) throw new Error('Unexpected end of data');
    await emit(Buffer.alloc(2 * blockSize));
    await flush();
    output.end();
  };

  const done = run().then(
    () => report,
    (error: unknown) => {
      const failed = asLayerError(error, what);
      input.destroy();
      output.destroy(failed);
      throw failed;
    },
  );
  done.catch(() => undefined); // observed through `output` as well; never unhandled
  return { output, done };
}
