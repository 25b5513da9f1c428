// Whether something is at a path, without following a final symlink (a dangling link exists).
import { lstat } from 'node:fs/promises';

/** True when `path` names anything (lstat); false when it or a parent is missing; other errors are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}
