// Reading simple-signing signatures from a lookaside (signature-protocols in containers/image):
// BASE/REPO@sha256=HEX/signature-1, -2, … until the first one that does not exist (a missing
// file, or 404). Every read is bounded (size of each, count, total), because the lookaside is
// as untrusted as the registry: a server that answers with a gigabyte or with signatures
// forever is refused quickly, not followed. HTTP goes through the store's one HTTP module.
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SyscontainerError } from '../../common/errors.js';
import { sendHttp } from '../registry/http.js';
import { readSmallBody } from '../registry/read-body.js';
import { lookasideSignatureUrl } from './registries-d.js';
import { limits } from './signature-limits.js';

export interface LookasideOptions {
  /** Response headers must arrive within this. */
  requestTimeoutMs: number;
  /** No body bytes for this long: the read fails. */
  stallTimeoutMs: number;
}

export interface LookasideSignatures {
  signatures: Buffer[];
  /** Where the first missing signature was looked for (names the place when there are none). */
  firstMissing: string;
}

const maxRedirects = 5;

/** Redacts credentials from a URL for messages. */
function shown(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

async function readFileSignature(url: URL): Promise<Buffer | undefined> {
  const path = fileURLToPath(url);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SyscontainerError('ECONFIG', `signature ${path}: cannot read (${code ?? (error as Error).message})`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SyscontainerError('ELIMIT', `signature ${path} is not a regular file`);
    if (info.size > limits.signatureBytes) throw new SyscontainerError('ELIMIT', `signature ${path} is larger than ${limits.signatureBytes} bytes (${info.size})`);
    // Read at most one byte past the bound: a file growing under us is refused too.
    const buffer = Buffer.alloc(Math.min(info.size, limits.signatureBytes) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > limits.signatureBytes) throw new SyscontainerError('ELIMIT', `signature ${path} is larger than ${limits.signatureBytes} bytes`);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readHttpSignature(url: URL, options: LookasideOptions): Promise<Buffer | undefined> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await sendHttp({ method: 'GET', url: current, timeoutMs: options.requestTimeoutMs });
    const status = response.status;
    if ([301, 302, 303, 307, 308].includes(status) && response.header('location') !== undefined) {
      response.body.resume();
      if (hop >= maxRedirects) throw new SyscontainerError('EREGISTRY', `signature ${shown(url)}: too many redirects`);
      const next = new URL(response.header('location')!, current);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new SyscontainerError('EREGISTRY', `signature ${shown(url)}: redirect to an unsupported scheme`);
      if (current.protocol === 'https:' && next.protocol === 'http:') throw new SyscontainerError('EREGISTRY', `signature ${shown(url)}: redirect from https to http refused`);
      current = next;
      continue;
    }
    if (status === 404) {
      response.body.resume();
      return undefined;
    }
    if (status !== 200) {
      response.body.resume();
      throw new SyscontainerError('EREGISTRY', `signature ${shown(url)}: the lookaside answered ${status}${response.statusText ? ` ${response.statusText.slice(0, 60)}` : ''}`, {
        hint: 'a lookaside answers 200 with a signature or 404 after the last one',
      });
    }
    return readSmallBody(response, {
      max: limits.signatureBytes,
      stallTimeoutMs: options.stallTimeoutMs,
      registry: current.host,
      subject: `signature ${shown(url)}`,
      what: 'signature',
    });
  }
}

/**
 * The signatures of `manifestDigest` in the lookaside whose repository base is `base`.
 * ELIMIT when one is too large, when there are more than limits.signatures, or when they
 * add up to more than limits.totalBytes.
 */
export async function readLookasideSignatures(base: URL, manifestDigest: string, options: LookasideOptions): Promise<LookasideSignatures> {
  const signatures: Buffer[] = [];
  let total = 0;
  for (let index = 1; ; index++) {
    const url = lookasideSignatureUrl(base, manifestDigest, index);
    if (index > limits.signatures) {
      throw new SyscontainerError('ELIMIT', `lookaside ${shown(base)}: more than ${limits.signatures} signatures for ${manifestDigest} (a broken or hostile signature server)`);
    }
    const signature = url.protocol === 'file:' ? await readFileSignature(url) : await readHttpSignature(url, options);
    if (signature === undefined) return { signatures, firstMissing: shown(url) };
    total += signature.length;
    if (total > limits.totalBytes) throw new SyscontainerError('ELIMIT', `lookaside ${shown(base)}: signatures for ${manifestDigest} add up to more than ${limits.totalBytes} bytes`);
    signatures.push(signature);
  }
}
