// /exports/manifest.json of an Atomic system container image: the defaults of the image's own
// variables and how its host files (/exports/hostfs) are installed. Untrusted: validated here,
// unknown keys ignored (images carry others, e.g. "version").
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

const maxEntries = 1024;

export const exportsManifestSchema = builtOnFirstUse(() => z
  .object({
    /** Defaults of variables; `--set` and the installer's computed values win. */
    defaultValues: z.record(z.string(), z.unknown()).optional(),
    /** Host path prefix → new path prefix (values may hold variables); see rename-files.ts. */
    renameFiles: z.record(z.string(), z.string()).optional(),
    /** Host paths (after renaming) of hostfs files that get variable substitution. */
    installedFilesTemplate: z.array(z.string()).optional(),
    /** Install only the host files: no unit, no container, no rootfs kept. */
    noContainerService: z.boolean().optional(),
    /** Atomic hardlinked /usr host files into the checkout; accepted, but files are always copied. */
    useLinks: z.boolean().optional(),
  })
  .passthrough());
export type ExportsManifest = z.infer<typeof exportsManifestSchema>;

/** Parses manifest.json text. Throws ETEMPLATE naming the image and the field. Pure. */
export function parseExportsManifest(text: string, imageName: string): ExportsManifest {
  const where = `image ${imageName}: /exports/manifest.json`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyscontainerError('ETEMPLATE', `${where}: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SyscontainerError('ETEMPLATE', `${where}: not an object`);
  }
  const result = exportsManifestSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new SyscontainerError('ETEMPLATE', `${where}: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  const manifest = result.data;
  const counts = [Object.keys(manifest.renameFiles ?? {}).length, (manifest.installedFilesTemplate ?? []).length];
  if (counts.some((n) => n > maxEntries)) throw new SyscontainerError('ELIMIT', `${where}: more than ${maxEntries} renameFiles or installedFilesTemplate entries`);
  return manifest;
}
