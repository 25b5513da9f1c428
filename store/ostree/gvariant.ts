// Reading GVariant, the serialisation ostree stores commit objects in and prints with
// `show --raw`: just enough to get a commit's string metadata without a process per commit.
import { SyscontainerError } from '../../common/errors.js';

/** Size in bytes of the framing offsets of a GVariant container of `size` bytes. */
function offsetSize(size: number): number {
  return size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
}

function readOffset(bytes: Buffer, at: number, size: number): number {
  return size === 1 ? bytes.readUInt8(at) : size === 2 ? bytes.readUInt16LE(at) : size === 4 ? bytes.readUInt32LE(at) : Number(bytes.readBigUInt64LE(at));
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * The string entries of the metadata dictionary (first member) of a serialised commit
 * variant (a{sv}aya(say)sstayay), following GVariant's serialisation format (framing
 * offsets little-endian, stored at the end of each container). Undefined for anything not
 * in normal form: the caller then asks ostree.
 */
export function commitObjectMetadata(bytes: Buffer): Record<string, string> | undefined {
  try {
    const total = bytes.length;
    // Six framing offsets (every variable-size member but the last); the first member's end is the last one stored.
    const tupleOffset = offsetSize(total);
    if (total < 6 * tupleOffset + 8) return undefined;
    const end = readOffset(bytes, total - tupleOffset, tupleOffset);
    if (end > total - 6 * tupleOffset) return undefined;
    const out: Record<string, string> = {};
    if (end === 0) return out;
    const arrayOffset = offsetSize(end);
    const framing = readOffset(bytes, end - arrayOffset, arrayOffset);
    if (framing > end || (end - framing) % arrayOffset !== 0) return undefined;
    const count = (end - framing) / arrayOffset;
    let start = 0;
    for (let index = 0; index < count; index++) {
      const entryEnd = readOffset(bytes, framing + index * arrayOffset, arrayOffset);
      if (entryEnd < start || entryEnd > framing) return undefined;
      const entry = bytes.subarray(start, entryEnd);
      const entryOffset = offsetSize(entry.length);
      if (entry.length < entryOffset + 2) return undefined;
      const keyEnd = readOffset(entry, entry.length - entryOffset, entryOffset);
      const valueStart = align8(keyEnd);
      const valueEnd = entry.length - entryOffset;
      if (keyEnd < 1 || valueStart > valueEnd || entry[keyEnd - 1] !== 0) return undefined;
      const key = entry.subarray(0, keyEnd - 1);
      const variant = entry.subarray(valueStart, valueEnd);
      const separator = variant.lastIndexOf(0);
      if (key.includes(0) || separator < 0) return undefined;
      if (variant.subarray(separator + 1).toString('latin1') === 's') {
        const value = variant.subarray(0, separator);
        if (value.length < 1 || value[value.length - 1] !== 0 || value.subarray(0, value.length - 1).includes(0)) return undefined;
        out[key.toString('utf8')] = value.subarray(0, value.length - 1).toString('utf8');
      }
      start = align8(entryEnd);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Parses one GVariant text-format string literal ('…' or "…") starting at `pos`. */
export function parseGVariantString(text: string, pos: number): { value: string; end: number } {
  const quote = text[pos];
  if (quote !== "'" && quote !== '"') throw new SyscontainerError('ESTORE', `ostree output: expected a string at ${pos}`);
  let value = '';
  let i = pos + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (ch !== '\\') {
      value += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '\\': '\\', "'": "'", '"': '"' };
    if (next !== undefined && simple[next] !== undefined) {
      value += simple[next];
      i += 2;
    } else if (next === 'u' || next === 'U') {
      const width = next === 'u' ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + width);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) throw new SyscontainerError('ESTORE', 'ostree output: bad \\u escape');
      value += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + width;
    } else if (next !== undefined && /[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
      value += String.fromCharCode(parseInt(octal, 8));
      i += 1 + octal.length;
    } else {
      value += next ?? '';
      i += 2;
    }
  }
  throw new SyscontainerError('ESTORE', 'ostree output: unterminated string');
}

/** Skips one GVariant text value (any type) starting at `pos`; returns the index after it. */
function skipValue(text: string, pos: number): number {
  let depth = 0;
  let i = pos;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      i = parseGVariantString(text, i).end;
      continue;
    }
    if ('<[({'.includes(ch)) depth++;
    else if ('>])}'.includes(ch)) {
      if (depth === 0) return i;
      depth--;
    } else if (ch === ',' && depth === 0) return i;
    i++;
  }
  return i;
}

/** The string entries of the metadata dictionary in `ostree show --raw` output. */
export function parseRawCommitMetadata(raw: string): Record<string, string> {
  const start = raw.indexOf('({');
  if (start < 0) throw new SyscontainerError('ESTORE', 'ostree show --raw: no metadata dictionary');
  const out: Record<string, string> = {};
  let i = start + 2;
  const ws = (): void => {
    while (i < raw.length && /\s/.test(raw[i]!)) i++;
  };
  for (;;) {
    ws();
    if (raw[i] === '}') return out;
    const key = parseGVariantString(raw, i);
    i = key.end;
    ws();
    if (raw[i] !== ':') throw new SyscontainerError('ESTORE', 'ostree show --raw: expected ":"');
    i++;
    ws();
    if (raw[i] !== '<') throw new SyscontainerError('ESTORE', 'ostree show --raw: expected a variant');
    i++;
    ws();
    if (raw[i] === "'" || raw[i] === '"') {
      const value = parseGVariantString(raw, i);
      i = value.end;
      ws();
      if (raw[i] === '>') out[key.value] = value.value;
    }
    i = skipValue(raw, i);
    if (raw[i] === '>') i++;
    ws();
    if (raw[i] === ',') i++;
    else if (raw[i] !== '}') throw new SyscontainerError('ESTORE', 'ostree show --raw: malformed metadata');
  }
}
