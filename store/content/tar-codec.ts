// The tar header format (POSIX ustar, GNU, pax), read and written the way tar-stream reads and
// writes it, so the tar filter decides on exactly the fields it would have seen there. Pure
// functions on 512-byte blocks; no streams.
export const blockSize = 512;
/** Longest pax or GNU long-name record accepted (tar-stream's bound). */
export const maxLongHeaderBytes = 4 * 1024 * 1024;

export type EntryType =
  | 'file'
  | 'link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'contiguous-file'
  | 'pax-header'
  | 'pax-global-header'
  | 'gnu-long-link-path'
  | 'gnu-long-path';

export interface RawHeader {
  name: string;
  /** Raw byte length of the name field's text (before any prefix). */
  nameBytes: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** undefined for a type tar-stream does not know (GNU sparse, volume labels, …). */
  type: EntryType | undefined;
  linkname: string | undefined;
  linknameBytes: number;
  uname: string;
  gname: string;
  /** The header is plain enough that libarchive reads the same fields from its bytes: ustar
   *  with an empty prefix or GNU, every number in octal. Otherwise the filter writes it anew. */
  plain: boolean;
}

const ustarMagic = Buffer.from('ustar\0', 'latin1');
const gnuMagic = Buffer.from('ustar ', 'latin1');

function field(block: Buffer, offset: number, length: number): Buffer {
  const end = block.indexOf(0, offset);
  return block.subarray(offset, end === -1 || end > offset + length ? offset + length : end);
}

function parse256(bytes: Buffer): number | undefined {
  if (bytes[0] !== 0x80) return undefined; // negative (0xff) or unknown: not a size or id we accept
  let sum = 0;
  for (let i = 1; i < bytes.length; i++) sum = sum * 256 + (bytes[i] as number);
  return sum;
}

/** tar-stream's octal reading: leading spaces, NULs, then octal digits up to a space; base-256 when the high bit is set. */
function numberAt(block: Buffer, offset: number, length: number): number | undefined {
  const bytes = block.subarray(offset, offset + length);
  if ((bytes[0] as number) & 0x80) return parse256(bytes);
  let start = 0;
  while (start < bytes.length && bytes[start] === 32) start++;
  let end = bytes.indexOf(32, start);
  if (end === -1) end = bytes.length;
  while (start < end && bytes[start] === 0) start++;
  if (end === start) return 0;
  return parseInt(bytes.toString('latin1', start, end), 8);
}

function typeOf(flag: number): EntryType | undefined {
  switch (flag) {
    case 0: return 'file';
    case 1: return 'link';
    case 2: return 'symlink';
    case 3: return 'character-device';
    case 4: return 'block-device';
    case 5: return 'directory';
    case 6: return 'fifo';
    case 7: return 'contiguous-file';
    case 72: return 'pax-header';
    case 55: return 'pax-global-header';
    case 27: return 'gnu-long-link-path';
    case 28:
    case 30: return 'gnu-long-path';
    default: return undefined;
  }
}

function checksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i] as number;
  for (let i = 156; i < blockSize; i++) sum += block[i] as number;
  return sum;
}

/** Decodes one header block; null for an all-zero block; throws on a bad checksum or number. */
export function decodeHeader(block: Buffer): RawHeader | null {
  const sum = checksum(block);
  if (sum === 8 * 32) return null;
  if (sum !== numberAt(block, 148, 8)) throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
  let flag = block[156] === 0 ? 0 : (block[156] as number) - 48;
  const nameField = field(block, 0, 100);
  let name = nameField.toString('utf8');
  const ustar = block.subarray(257, 263).equals(ustarMagic);
  const gnu = block.subarray(257, 263).equals(gnuMagic);
  const prefixed = ustar && block[345] !== 0;
  if (prefixed) name = `${field(block, 345, 155).toString('utf8')}/${name}`;
  if (flag === 0 && name.endsWith('/')) flag = 5;
  const linkField = block[157] === 0 ? undefined : field(block, 157, 100);
  const numbers = [numberAt(block, 100, 8), numberAt(block, 108, 8), numberAt(block, 116, 8), numberAt(block, 124, 12), numberAt(block, 136, 12)];
  if (numbers.some((value) => value === undefined || !Number.isSafeInteger(value) || value < 0)) throw new Error('Invalid header');
  const [mode, uid, gid, size, mtime] = numbers as number[];
  const octal = [100, 108, 116, 124, 136].every((offset) => ((block[offset] as number) & 0x80) === 0);
  return {
    name,
    nameBytes: nameField.length,
    mode: mode as number,
    uid: uid as number,
    gid: gid as number,
    size: size as number,
    mtime: mtime as number,
    type: typeOf(flag),
    linkname: linkField?.toString('utf8'),
    linknameBytes: linkField?.length ?? 0,
    uname: field(block, 265, 32).toString('utf8'),
    gname: field(block, 297, 32).toString('utf8'),
    plain: ((ustar && !prefixed) || gnu) && octal,
  };
}

/** A pax record set (`LEN key=value\n`…), as tar-stream decodes it. */
export function decodePax(bytes: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  let rest = bytes;
  while (rest.length > 0) {
    let i = 0;
    while (i < rest.length && rest[i] !== 32) i++;
    const length = parseInt(rest.toString('utf8', 0, i), 10);
    if (!length) return result;
    const record = rest.toString('utf8', i + 1, length - 1);
    const eq = record.indexOf('=');
    if (eq === -1) return result;
    result[record.slice(0, eq)] = record.slice(eq + 1);
    rest = rest.subarray(length);
  }
  return result;
}

/** A GNU long name or link record: the text up to the first NUL. */
export function decodeLongName(bytes: Buffer): string {
  return field(bytes, 0, bytes.length).toString('utf8');
}

export interface HeaderFields {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  uname: string;
  gname: string;
  pax?: Record<string, string>;
}

const typeflags = { file: '0', link: '1', symlink: '2', directory: '5' } as const;

function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')} `;
}

/** A ustar block, or undefined when the name or link does not fit it (then a pax record carries them). */
function ustarBlock(fields: Omit<HeaderFields, 'pax' | 'type'> & { type: HeaderFields['type'] | 'pax-header' }): Buffer | undefined {
  let name = fields.name;
  const ascii = (text: string): boolean => Buffer.byteLength(text) === text.length;
  if (!ascii(name) || (fields.linkname !== undefined && (!ascii(fields.linkname) || fields.linkname.length > 100))) return undefined;
  let prefix = '';
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, slash)}` : name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  if (name.length > 100 || prefix.length > 155) return undefined;
  const block = Buffer.alloc(blockSize);
  block.write(name, 0, 'latin1');
  block.write(octal(fields.mode & 0o7777, 6), 100, 'latin1');
  block.write(octal(fields.uid, 6), 108, 'latin1');
  block.write(octal(fields.gid, 6), 116, 'latin1');
  if (fields.size.toString(8).length > 11) {
    block[124] = 0x80;
    let rest = fields.size;
    for (let i = 11; i > 0; i--) {
      block[124 + i] = rest & 0xff;
      rest = Math.floor(rest / 0x100);
    }
  } else {
    block.write(octal(fields.size, 11), 124, 'latin1');
  }
  block.write(octal(fields.mtime, 11), 136, 'latin1');
  block.write(fields.type === 'pax-header' ? 'x' : typeflags[fields.type], 156, 'latin1');
  if (fields.linkname) block.write(fields.linkname, 157, 'latin1');
  ustarMagic.copy(block, 257);
  block.write('00', 263, 'latin1');
  block.write(fields.uname, 265, 32, 'utf8');
  block.write(fields.gname, 297, 32, 'utf8');
  block.write(octal(0, 6), 329, 'latin1');
  block.write(octal(0, 6), 337, 'latin1');
  if (prefix) block.write(prefix, 345, 'latin1');
  block.write(octal(checksum(block), 6), 148, 'latin1');
  return block;
}

function paxRecord(key: string, value: string): string {
  const text = ` ${key}=${value}\n`;
  const length = Buffer.byteLength(text);
  let digits = String(length).length;
  if (length + digits >= 10 ** digits) digits++;
  return `${length + digits}${text}`;
}

/**
 * The header blocks of one entry, written as tar-stream's pack writes them: one ustar block,
 * or, when the name or link does not fit or pax records are kept, a pax header ('x') with
 * path, linkpath and the records, then the ustar block.
 */
export function encodeHeader(fields: HeaderFields): Buffer {
  const plain = fields.pax === undefined ? ustarBlock(fields) : undefined;
  if (plain !== undefined) return plain;
  let records = paxRecord('path', fields.name);
  if (fields.linkname) records += paxRecord('linkpath', fields.linkname);
  for (const [key, value] of Object.entries(fields.pax ?? {})) records += paxRecord(key, value);
  const pax = Buffer.from(records, 'utf8');
  const common = { name: 'PaxHeader', mode: fields.mode, uid: fields.uid, gid: fields.gid, mtime: fields.mtime, uname: fields.uname, gname: fields.gname };
  const linkname = fields.linkname ? 'PaxHeader' : undefined;
  const paxHeader = ustarBlock({ ...common, type: 'pax-header', size: pax.length, ...(linkname ? { linkname } : {}) }) as Buffer;
  const header = ustarBlock({ ...common, type: fields.type, size: fields.size, ...(linkname ? { linkname } : {}) }) as Buffer;
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padding(pax.length)), header]);
}

/** Zero bytes after a body of `size` bytes, up to the next block. */
export function padding(size: number): number {
  const rest = size % blockSize;
  return rest === 0 ? 0 : blockSize - rest;
}
