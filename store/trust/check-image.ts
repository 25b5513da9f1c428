// The decision: may this image be stored and run? The requirements of the image's policy
// scope must all hold. insecureAcceptAnything holds, reject never; signedBy and
// sigstoreSigned hold when at least one signature is cryptographically valid by a trusted
// key, signs exactly the manifest digest that was fetched, and claims an identity the
// requirement's signedIdentity accepts. A refusal is one ETRUST error naming what was
// required, the scope, and why each signature failed; the caller adds the image's name.
import { readFile } from 'node:fs/promises';
import { SyscontainerError } from '../../common/errors.js';
import { shortDigest } from '../../common/digest.js';
import { describeIdentityRule, identityMatches } from './identity-match.js';
import { readKeyring, verifyOpenPgpSignature } from './openpgp-signature.js';
import type { KeySource, Policy, Requirement, RequirementType } from './policy.js';
import { requirementsFor, type PolicyImage } from './policy-scope.js';
import { parseSignedClaim, payloadTypes } from './signature-payload.js';
import { readSigstoreKeys, sigstoreMediaType, verifySigstoreSignature, type SigstoreSignature } from './sigstore-signature.js';
import { formatReference } from '../oci/reference.js';

/** Where an image's signatures come from; each is read at most once, only when a requirement needs it. */
export interface ImageSignatures {
  simpleSigning(): Promise<{ signatures: Buffer[]; lookedAt: string }>;
  sigstore(): Promise<{ signatures: SigstoreSignature[]; lookedAt: string }>;
}

export interface VerifiedSignature {
  type: 'signedBy' | 'sigstoreSigned';
  /** The name the signature claims (its docker-reference). */
  identity: string;
  /** The signer: OpenPGP primary key fingerprint, or SHA256:… of the sigstore public key. */
  key: string;
  /** Where the policy took the key from. */
  keySource: string;
}

export interface TrustVerdict {
  /** `docker:127.0.0.1:5000`, `default`, … */
  scope: string;
  requirements: RequirementType[];
  /** The manifest digest whose signatures were checked (an index's, when the image came through one). */
  digest: string;
  /** One per signature requirement: the signature that satisfied it. */
  signatures: VerifiedSignature[];
}

function describeKeys(keys: KeySource): string {
  if ('keyPath' in keys) return keys.keyPath;
  if ('keyPaths' in keys) return keys.keyPaths.join(', ');
  return "the policy's keyData";
}

async function keyBlobs(keys: KeySource, scope: string): Promise<Buffer[]> {
  if ('keyData' in keys) return [keys.keyData];
  if ('keyDatas' in keys) return keys.keyDatas;
  const paths = 'keyPath' in keys ? [keys.keyPath] : keys.keyPaths;
  return Promise.all(
    paths.map((path) =>
      readFile(path).catch((error: NodeJS.ErrnoException) => {
        throw new SyscontainerError('ECONFIG', `cannot read key file ${path} (${error.code ?? error.message}) (policy scope ${scope})`, { cause: error });
      }),
    ),
  );
}

function refused(message: string): SyscontainerError {
  return new SyscontainerError('ETRUST', message);
}

/** "signature 1: …; signature 2: …" with at most a few listed. */
function listFaults(faults: string[]): string {
  const shown = faults.slice(0, 3).map((fault, index) => `signature ${index + 1}: ${fault}`);
  if (faults.length > 3) shown.push(`and ${faults.length - 3} more`);
  return shown.join('; ');
}

interface ClaimCheck {
  image: PolicyImage;
  digest: string;
  requirement: Extract<Requirement, { signedIdentity: unknown }>;
}

/** Why a cryptographically valid claim is still refused, or undefined when it holds. */
function claimFault(payload: Uint8Array, type: string, check: ClaimCheck): { fault: string } | { identity: string } {
  const claim = parseSignedClaim(payload, type);
  if ('fault' in claim) return claim;
  if (claim.manifestDigest !== check.digest) return { fault: `signs manifest ${shortDigest(claim.manifestDigest)}, not the one fetched (${shortDigest(check.digest)})` };
  const rule = check.requirement.signedIdentity;
  if (!identityMatches(rule, check.image.dockerReference, claim.identity)) {
    const image = check.image.dockerReference !== undefined ? formatReference(check.image.dockerReference) : check.image.identity;
    return { fault: `signed as ${claim.identity.slice(0, 200)}, which signedIdentity ${describeIdentityRule(rule)} does not accept for ${image}` };
  }
  return { identity: claim.identity };
}

async function checkSignedBy(requirement: Extract<Requirement, { type: 'signedBy' }>, scope: string, check: Omit<ClaimCheck, 'requirement'>, signatures: ImageSignatures): Promise<VerifiedSignature> {
  const keySource = describeKeys(requirement.keys);
  const failure = (why: string) => refused(`no signature by a key in ${keySource} (policy scope ${scope}): ${why}`);
  if (requirement.keyType !== 'GPGKeys') throw failure(`keyType ${requirement.keyType} is not supported (only GPGKeys)`);
  let keyring;
  try {
    keyring = await readKeyring(await keyBlobs(requirement.keys, scope));
  } catch (error) {
    if (error instanceof SyscontainerError) throw error;
    throw new SyscontainerError('ECONFIG', `key ${keySource}: ${(error as Error).message} (policy scope ${scope})`);
  }
  if (keyring.keys.length === 0) throw new SyscontainerError('ECONFIG', `key ${keySource}: no public keys in it (policy scope ${scope})`);
  const { signatures: blobs, lookedAt } = await signatures.simpleSigning();
  if (blobs.length === 0) throw failure(`no signatures (none at ${lookedAt})`);
  const faults: string[] = [];
  for (const blob of blobs) {
    const verified = await verifyOpenPgpSignature(keyring, blob);
    if ('fault' in verified) {
      faults.push(verified.fault);
      continue;
    }
    const claim = claimFault(verified.payload, payloadTypes.simpleSigning, { ...check, requirement });
    if ('fault' in claim) {
      faults.push(`by key ${verified.fingerprint}, but ${claim.fault}`);
      continue;
    }
    return { type: 'signedBy', identity: claim.identity, key: verified.fingerprint, keySource };
  }
  throw failure(listFaults(faults));
}

async function checkSigstoreSigned(requirement: Extract<Requirement, { type: 'sigstoreSigned' }>, scope: string, check: Omit<ClaimCheck, 'requirement'>, signatures: ImageSignatures): Promise<VerifiedSignature> {
  if (requirement.unsupported.length > 0 || requirement.keys === undefined) {
    throw refused(`sigstoreSigned with ${requirement.unsupported.join(' and ')} is not supported by this version (policy scope ${scope}); use keyPath or keyData`);
  }
  const keySource = describeKeys(requirement.keys);
  const failure = (why: string) => refused(`no sigstore signature by a key in ${keySource} (policy scope ${scope}): ${why}`);
  let keys;
  try {
    keys = (await keyBlobs(requirement.keys, scope)).flatMap((blob) => readSigstoreKeys(blob));
  } catch (error) {
    if (error instanceof SyscontainerError) throw error;
    throw new SyscontainerError('ECONFIG', `key ${keySource}: ${(error as Error).message} (policy scope ${scope})`);
  }
  const { signatures: all, lookedAt } = await signatures.sigstore();
  const candidates = all.filter((signature) => signature.mediaType === sigstoreMediaType);
  if (candidates.length === 0) throw failure(`no signatures (none at ${lookedAt}${all.length > 0 ? `; ${all.length} attachment(s) that are not signatures` : ''})`);
  const faults: string[] = [];
  for (const candidate of candidates) {
    const verified = verifySigstoreSignature(keys, candidate);
    if ('fault' in verified) {
      faults.push(verified.fault);
      continue;
    }
    const claim = claimFault(verified.payload, payloadTypes.sigstore, { ...check, requirement });
    if ('fault' in claim) {
      faults.push(`by key ${verified.fingerprint}, but ${claim.fault}`);
      continue;
    }
    return { type: 'sigstoreSigned', identity: claim.identity, key: verified.fingerprint, keySource };
  }
  throw failure(listFaults(faults));
}

/**
 * Checks `image` (whose fetched top-level manifest has `digest`) against `policy`. Resolves
 * with what was verified, or rejects with ETRUST (refused) or ECONFIG (a key cannot be read).
 * Signatures are read lazily, once each.
 */
export async function checkImage(policy: Policy, image: PolicyImage, digest: string, signatures: ImageSignatures): Promise<TrustVerdict> {
  const { scope, requirements } = requirementsFor(policy, image);
  const once = memoised(signatures);
  const verdict: TrustVerdict = { scope, requirements: requirements.map((r) => r.type), digest, signatures: [] };
  const check = { image, digest };
  for (const requirement of requirements) {
    switch (requirement.type) {
      case 'insecureAcceptAnything':
        break;
      case 'reject':
        throw refused(`rejected by the signature policy (policy scope ${scope})`);
      case 'signedBaseLayer':
        throw refused(`signedBaseLayer is not supported (policy scope ${scope})`);
      case 'signedBy':
        verdict.signatures.push(await checkSignedBy(requirement, scope, check, once));
        break;
      case 'sigstoreSigned':
        verdict.signatures.push(await checkSigstoreSigned(requirement, scope, check, once));
        break;
    }
  }
  return verdict;
}

function memoised(signatures: ImageSignatures): ImageSignatures {
  let simple: ReturnType<ImageSignatures['simpleSigning']> | undefined;
  let sigstore: ReturnType<ImageSignatures['sigstore']> | undefined;
  return { simpleSigning: () => (simple ??= signatures.simpleSigning()), sigstore: () => (sigstore ??= signatures.sigstore()) };
}
