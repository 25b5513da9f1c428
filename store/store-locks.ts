// Where the store's locks live (the locking itself is common/file-lock.ts). Every process
// that writes to or checks out of one ROOT agrees on these paths.
import { createHash } from 'node:crypto';
import path from 'node:path';

/** ROOT/.storage/locks/store: shared by everything that writes or checks out of the store, exclusive for prune. */
export function storeLockDir(root: string): string {
  return path.join(root, '.storage', 'locks', 'store');
}

/** ROOT/.storage/locks/image-<hash>: serializes pulls of one image name. */
export function imageLockDir(root: string, imageName: string): string {
  return path.join(root, '.storage', 'locks', `image-${createHash('sha256').update(imageName).digest('hex').slice(0, 32)}`);
}
