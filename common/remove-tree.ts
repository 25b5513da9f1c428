// Removing a directory tree that may not be writable: layers can leave directories without
// write permission (a non-root checkout keeps their modes), and rm -rf alone fails on those.
import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes a tree even where layers left directories without write permission (non-root). */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through: make directories writable, then retry
  }
  const open = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700).catch(() => undefined);
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await open(join(dir, entry.name));
    }
  };
  await open(path);
  await rm(path, { recursive: true, force: true });
}
