// The "simple signing" payload both signature kinds carry: which manifest digest is signed
// and under which name. Read strictly, like containers/image: `critical` must hold exactly
// type, image and identity (a field we do not understand there could change the meaning);
// `optional` may hold anything (creator, timestamp).
import * as z from 'zod';
import { digestPattern } from '../oci/oci-types.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export const payloadTypes = {
  /** In OpenPGP messages from the lookaside (skopeo --sign-by, atomic sign). */
  simpleSigning: 'atomic container signature',
  /** In sigstore attachments (cosign, skopeo --sign-by-sigstore-private-key). */
  sigstore: 'cosign container image signature',
} as const;

export interface SignedClaim {
  /** The manifest digest the signer signed. */
  manifestDigest: string;
  /** The name the signer signed it under (docker-reference). */
  identity: string;
}

const payloadSchema = builtOnFirstUse(() => z.strictObject({
  critical: z.strictObject({
    type: z.string(),
    image: z.strictObject({ 'docker-manifest-digest': z.string() }),
    identity: z.strictObject({ 'docker-reference': z.string() }),
  }),
  optional: z.record(z.string(), z.unknown()).nullable(),
}));

/** The claim in `bytes`, or why it is not one (a one-line reason for the refusal message). */
export function parseSignedClaim(bytes: Uint8Array, expectedType: string): SignedClaim | { fault: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { fault: 'the signed payload is not JSON' };
  }
  const parsed = payloadSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join('.');
    return { fault: `the signed payload is not a simple-signing claim (${where ? `${where}: ` : ''}${issue.code === 'unrecognized_keys' ? `unknown key ${JSON.stringify(issue.keys[0])}` : issue.message})` };
  }
  const { critical } = parsed.data;
  if (critical.type !== expectedType) return { fault: `the signed payload has type ${JSON.stringify(critical.type.slice(0, 60))}, not ${JSON.stringify(expectedType)}` };
  const manifestDigest = critical.image['docker-manifest-digest'];
  if (!digestPattern.test(manifestDigest)) return { fault: `the signed payload's docker-manifest-digest ${JSON.stringify(manifestDigest.slice(0, 80))} is not a sha256 digest` };
  return { manifestDigest, identity: critical.identity['docker-reference'] };
}
