// Where a container's lock lives (the locking itself is common/file-lock.ts).
import path from 'node:path';

/** ROOT/.NAME.lock: one command at a time changes a container. NAME must be valid. */
export function containerLockDir(root: string, name: string): string {
  return path.join(root, `.${name}.lock`);
}
