// What the signature policy verified when an image was pulled, kept with the image (its
// commit's syscontainer.trust metadata) so `images info` can say who signed it and under
// which name, and `images verify` which digest to check again.
import * as z from 'zod';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export const trustRecordSchema = builtOnFirstUse(() => z.object({
  /** The policy file that decided. */
  policy: z.string(),
  /** `docker:127.0.0.1:5000`, `default`, … */
  scope: z.string(),
  requirements: z.array(z.string()),
  /** The manifest digest whose signatures were checked (an index's when pulled through one). */
  digest: z.string(),
  transport: z.string(),
  /** The image's identity for the policy (REGISTRY/REPO:TAG, or a layout's path). */
  identity: z.string(),
  signatures: z.array(z.object({ type: z.enum(['signedBy', 'sigstoreSigned']), identity: z.string(), key: z.string(), keySource: z.string() })),
  /** When the check ran (ISO 8601). */
  verifiedAt: z.string(),
}));
export type TrustRecord = z.infer<typeof trustRecordSchema>;
