// Deterministic file content for the benchmark images: the same seed gives the same bytes on
// every machine and run. Random-looking bytes come from an AES-128-CTR keystream (fast, and
// as incompressible as real binaries' hardest parts); text comes from a small vocabulary, so
// it compresses like documentation and source files do (about 3:1 with gzip).
import { createCipheriv, createHash } from 'node:crypto';

const zeros = Buffer.alloc(1024 * 1024);

/** `size` pseudo-random bytes for `seed` (AES-CTR keystream over zeros). */
export function randomBytesFor(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(`bench-random:${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const parts: Buffer[] = [];
  for (let left = size; left > 0; left -= zeros.length) parts.push(cipher.update(zeros.subarray(0, Math.min(left, zeros.length))));
  return Buffer.concat(parts, size);
}

const vocabulary = (
  'the of and to in is for on that with by this be are from or as at an it not config service ' +
  'system container image layer store file path value option default return error buffer stream ' +
  'digest manifest registry unit start stop restart socket network port user group mode root ' +
  'install update version release package library module function const let var if else while ' +
  'struct int char void static inline include define endif ifdef printf malloc free size_t'
).split(' ');

const poolSize = 8 * 1024 * 1024;
let pool: Buffer | undefined;

/** 8 MiB of word-salad text in lines of about 70 characters, made once. */
function textPool(): Buffer {
  if (pool) return pool;
  const picks = randomBytesFor('text-pool', poolSize);
  const out = Buffer.alloc(poolSize);
  let at = 0;
  let line = 0;
  for (let i = 0; at < poolSize; i++) {
    const word = vocabulary[(picks[i] as number) % vocabulary.length] as string;
    const sep = line + word.length > 70 ? '\n' : ' ';
    line = sep === '\n' ? 0 : line + word.length + 1;
    at += out.write(word + sep, at);
  }
  pool = out;
  return out;
}

/**
 * `size` bytes of text for `seed`: slices of the pool at seed-chosen offsets. Gzip sees no
 * repeats within its 32 KiB window, so it compresses like ordinary text.
 */
export function textFor(seed: string, size: number): Buffer {
  const source = textPool();
  const slice = 256 * 1024;
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < size; at += slice, i++) {
    const n = Math.min(slice, size - at);
    const offset = intFor(`${seed}:${i}`, 0, poolSize - n);
    parts.push(source.subarray(offset, offset + n));
  }
  return Buffer.concat(parts, size);
}

/**
 * Binary-like content: 32 KiB blocks, `randomShare` of them random and the rest text, so a
 * file compresses to roughly randomShare + (1 - randomShare) / 4 of its size. The pattern of
 * blocks starts at a seed-chosen phase, so small files are not all random or all text.
 */
export function mixedFor(seed: string, size: number, randomShare: number): Buffer {
  const block = 32 * 1024;
  const phase = intFor(`phase:${seed}`, 0, 99);
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < size; at += block, i++) {
    const n = Math.min(block, size - at);
    // A fixed pattern of blocks (not a random draw) keeps the ratio exact for big files.
    const random = randomShare >= 1 || (((i + phase) * randomShare) % 1) < randomShare - 1e-9;
    parts.push(random ? randomBytesFor(`${seed}:${i}`, n) : textFor(`${seed}:${i}`, n));
  }
  return Buffer.concat(parts, size);
}

/** A deterministic integer in [min, max] for `seed`. */
export function intFor(seed: string, min: number, max: number): number {
  const word = createHash('sha256').update(`bench-int:${seed}`).digest().readUInt32BE(0);
  return min + (word % (max - min + 1));
}
