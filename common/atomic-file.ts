// Writing a file so that readers see the old content or the new, never half of it: a
// uniquely named temporary file in the same directory, renamed over the target. The
// temporary file is removed when anything fails.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `file`'s temporary sibling: hidden, unique, on the same filesystem (rename is atomic). */
export function temporarySibling(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${randomBytes(6).toString('hex')}`);
}

/** Replaces `file` with `content` atomically. The parent directory must exist. */
export async function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = temporarySibling(file);
  try {
    await writeFile(temp, content, { mode, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
