// Simple-signing signatures: an OpenPGP signed message (what `gpg --sign` writes, and skopeo
// --sign-by stores in the lookaside) whose literal data is the JSON claim. All packet work is
// openpgp's; it is imported on first use, because it takes ~0.3 s to load and only policies
// with signedBy need it. Keys are those of the policy's keyrings (binary `gpg --export` or
// armored); the signer is named by its primary key's fingerprint, as gpg and podman show it.
import type { Key } from 'openpgp';
import { limits } from './signature-limits.js';

export interface OpenPgpKeyring {
  keys: Key[];
}

export type OpenPgpResult = { payload: Uint8Array; fingerprint: string } | { fault: string };

type OpenPgp = typeof import('openpgp');
let loaded: Promise<OpenPgp> | undefined;
const openpgp = (): Promise<OpenPgp> => (loaded ??= import('openpgp'));

const armorHeader = (bytes: Buffer, kind: string): boolean => bytes.subarray(0, 64).toString('latin1').trimStart().startsWith(`-----BEGIN PGP ${kind}`);

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
}

/** Reads the public keys of keyring blobs; throws a plain Error naming what is wrong. */
export async function readKeyring(blobs: Buffer[]): Promise<OpenPgpKeyring> {
  const { readKeys } = await openpgp();
  const keys: Key[] = [];
  for (const blob of blobs) {
    try {
      keys.push(...(armorHeader(blob, 'PUBLIC KEY BLOCK') ? await readKeys({ armoredKeys: blob.toString('utf8') }) : await readKeys({ binaryKeys: blob })));
    } catch (error) {
      throw new Error(`not an OpenPGP keyring (${firstLine(error)})`);
    }
  }
  return { keys };
}

/**
 * Verifies one signature blob against the keyring: a signed message, signed by one of the
 * keyring's keys (primary or subkey, valid now), with its literal data bounded. Never
 * throws for bad input: the fault is returned, for the message that lists why each
 * signature was refused.
 */
export async function verifyOpenPgpSignature(keyring: OpenPgpKeyring, blob: Buffer): Promise<OpenPgpResult> {
  const { readMessage, verify } = await openpgp();
  const config = { maxDecompressedMessageSize: limits.signatureBytes };
  let message;
  try {
    message = armorHeader(blob, 'MESSAGE') ? await readMessage({ armoredMessage: blob.toString('utf8'), config }) : await readMessage({ binaryMessage: blob, config });
  } catch (error) {
    return { fault: `not an OpenPGP message (${firstLine(error)})` };
  }
  let result;
  try {
    result = await verify({ message, verificationKeys: keyring.keys, format: 'binary', config });
  } catch (error) {
    return { fault: `unreadable OpenPGP message (${firstLine(error)})` };
  }
  if (result.signatures.length === 0) return { fault: 'an OpenPGP message without a signature' };
  const faults: string[] = [];
  for (const signature of result.signatures) {
    const keyId = signature.keyID.toHex().toUpperCase();
    const key = keyring.keys.find((candidate) => candidate.getKeyIDs().some((id) => id.equals(signature.keyID)));
    if (key === undefined) {
      faults.push(`signed by key ${keyId}, which is not in the keyring`);
      continue;
    }
    try {
      await signature.verified;
    } catch (error) {
      faults.push(`bad signature by key ${keyId} (${firstLine(error)})`);
      continue;
    }
    // Data is only read after the signature checked out; `verify` has the whole message in memory.
    const payload = result.data;
    if (payload.length > limits.signatureBytes) return { fault: 'signed payload too large' };
    return { payload, fingerprint: key.getFingerprint().toUpperCase() };
  }
  return { fault: faults.join('; ') };
}
