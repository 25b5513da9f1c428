// Reading files out of an image's rootfs from the host. The rootfs is untrusted: a symlink
// such as /etc/passwd -> /etc/shadow must resolve inside the rootfs (as it would inside the
// container), never to the host's file. Size is bounded.
import { lstat, open, readlink } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';

const maxSymlinks = 40;

/**
 * The host path of `inner` (an absolute path as seen inside the container) under `rootfs`,
 * with every symlink resolved inside the rootfs. Undefined when it does not exist.
 */
export async function resolveInRootfs(rootfs: string, inner: string): Promise<string | undefined> {
  const pending = inner.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(rootfs, ...resolved, part);
    let stats;
    try {
      stats = await lstat(candidate);
    } catch {
      return undefined;
    }
    if (stats.isSymbolicLink()) {
      if (++hops > maxSymlinks) throw new SyscontainerError('ELIMIT', `${inner} in the image: too many symlinks`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return path.join(rootfs, ...resolved);
}

/** Reads a regular file of the rootfs (symlinks confined), at most `maxBytes`; undefined if absent. */
export async function readRootfsFile(rootfs: string, inner: string, maxBytes = 1024 * 1024): Promise<string | undefined> {
  const hostPath = await resolveInRootfs(rootfs, inner);
  if (hostPath === undefined) return undefined;
  const stats = await lstat(hostPath);
  if (!stats.isFile()) return undefined;
  if (stats.size > maxBytes) {
    throw new SyscontainerError('ELIMIT', `${inner} in the image is ${stats.size} bytes, more than the ${maxBytes} allowed`);
  }
  const handle = await open(hostPath, 'r');
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Whether `inner` exists in the rootfs as a directory (symlinks confined). */
export async function rootfsDirectoryExists(rootfs: string, inner: string): Promise<boolean> {
  const hostPath = await resolveInRootfs(rootfs, inner);
  if (hostPath === undefined) return false;
  return (await lstat(hostPath)).isDirectory();
}
