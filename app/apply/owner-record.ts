// What apply records on every container it makes, in the deployment's info record (written
// with it, atomically): the config id that owns it, where it was declared, its spec digest, and
// the declaration itself, so `generate kube` can write it back and the next apply can compare.
import * as z from 'zod';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export const ownerRecordSchema = builtOnFirstUse(() => z.object({
  configId: z.string(),
  /** The files it was declared in, as the user named them. */
  source: z.array(z.string()),
  specDigest: z.string(),
  /** Kubernetes: the pod, and the container's name inside it (the host name is POD-NAME). */
  pod: z.string().optional(),
  podContainer: z.string().optional(),
  /** The declaration without its origin (DeclaredContainer), for generate kube. */
  declared: z.record(z.string(), z.unknown()),
}));
export type OwnerRecord = z.infer<typeof ownerRecordSchema>;

/** Config ids name lock files and records: paunch's step_1, a directory's name. */
export const configIdPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
