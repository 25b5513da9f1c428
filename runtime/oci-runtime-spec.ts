// The parts of the OCI runtime spec (config.json) that syscontainer reads or relies on. A
// rendered config.json is parsed against this before anything is installed, so a template
// that renders into nonsense fails at install with the file and the field named, not at start.
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

const absolutePath = builtOnFirstUse(() => z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path'));
const capabilityList = builtOnFirstUse(() => z.array(z.string().regex(/^CAP_[A-Z_]+$/, 'not a capability name')).optional());

export const ociMountSchema = builtOnFirstUse(() => z
  .object({
    destination: absolutePath,
    type: z.string().optional(),
    source: z.string().optional(),
    options: z.array(z.string()).optional(),
  })
  .passthrough());
export type OciMount = z.infer<typeof ociMountSchema>;

export const ociNamespaceSchema = builtOnFirstUse(() => z
  .object({
    type: z.enum(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']),
    path: z.string().optional(),
  })
  .passthrough());

export const ociRuntimeSpecSchema = builtOnFirstUse(() => z
  .object({
    ociVersion: z.string().min(1),
    process: z
      .object({
        terminal: z.boolean().optional(),
        user: z
          .object({
            uid: z.number().int().nonnegative(),
            gid: z.number().int().nonnegative(),
            additionalGids: z.array(z.number().int().nonnegative()).optional(),
          })
          .passthrough(),
        args: z.array(z.string()).min(1, 'needs at least the program to run'),
        env: z.array(z.string()).optional(),
        cwd: absolutePath,
        capabilities: z
          .object({
            bounding: capabilityList,
            effective: capabilityList,
            inheritable: capabilityList,
            permitted: capabilityList,
            ambient: capabilityList,
          })
          .passthrough()
          .optional(),
        noNewPrivileges: z.boolean().optional(),
      })
      .passthrough(),
    root: z.object({ path: z.string().min(1), readonly: z.boolean().optional() }).passthrough(),
    hostname: z.string().optional(),
    mounts: z.array(ociMountSchema).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    linux: z
      .object({
        namespaces: z.array(ociNamespaceSchema).optional(),
        cgroupsPath: z.string().optional(),
        resources: z
          .object({
            devices: z
              .array(
                z
                  .object({
                    allow: z.boolean(),
                    type: z.string().optional(),
                    major: z.number().nullish(),
                    minor: z.number().nullish(),
                    access: z.string().optional(),
                  })
                  .passthrough(),
              )
              .optional(),
          })
          .passthrough()
          .optional(),
        // Atomic's own images write `"devices": null` (Go's nil slice): accepted as none.
        devices: z.array(z.object({ path: absolutePath }).passthrough()).nullish(),
        maskedPaths: z.array(z.string()).optional(),
        readonlyPaths: z.array(z.string()).optional(),
      })
      .passthrough(),
  })
  .passthrough());
export type OciRuntimeSpec = z.infer<typeof ociRuntimeSpecSchema>;

/** Parses a rendered config.json; throws ETEMPLATE naming `fileName`, the line (bad JSON) or the field. */
export function parseRuntimeSpec(text: string, fileName: string): OciRuntimeSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(String((error as Error).message));
    const line = position?.[1] !== undefined ? `:${text.slice(0, Number(position[1])).split('\n').length}` : '';
    throw new SyscontainerError('ETEMPLATE', `${fileName}${line}: not valid JSON after rendering: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const result = ociRuntimeSpecSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new SyscontainerError('ETEMPLATE', `${fileName}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
