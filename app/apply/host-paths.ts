// Kubernetes' hostPath types that make what they name: DirectoryOrCreate (0755) and
// FileOrCreate (empty, 0644), made just before the container that mounts them is installed.
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { DeclaredContainer } from './declared-container.js';

export async function ensureHostPaths(paths: DeclaredContainer['hostPaths']): Promise<void> {
  for (const hostPath of paths) {
    if (hostPath.type === 'DirectoryOrCreate') await mkdir(hostPath.path, { recursive: true, mode: 0o755 });
    else if (hostPath.type === 'FileOrCreate') {
      await mkdir(path.dirname(hostPath.path), { recursive: true, mode: 0o755 });
      await (await open(hostPath.path, 'a', 0o644)).close();
    }
  }
}
