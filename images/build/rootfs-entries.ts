// Turns a definition's list of rootfs items into the entries of a layer the way a real image
// has them: every parent directory present, paths relative ("usr/bin/etcd"), sorted, each
// path once. Definitions list only what they mean; this adds the rest, the same way each time.
import { posix } from 'node:path';
import { SyscontainerError } from '../../common/errors.js';
import type { HostFile } from './host-files.js';
import type { LayerEntry } from './layer.js';

/** A layer entry for a file read from the host; owned by root. */
export function fromHostFile(file: HostFile, mode: number = file.mode): LayerEntry {
  return { type: 'file', path: file.path, content: file.content, mode };
}

function relative(path: string): string {
  const normal = posix.normalize(`/${path}`).replace(/\/+$/, '');
  if (normal === '' || normal.split('/').includes('..')) {
    throw new SyscontainerError('EINVAL', `rootfs entry "${path}": not a path inside the image`);
  }
  return normal.slice(1);
}

function sameEntry(a: LayerEntry, b: LayerEntry): boolean {
  if (a.type !== b.type || (a.mode ?? -1) !== (b.mode ?? -1) || (a.uid ?? 0) !== (b.uid ?? 0) || (a.gid ?? 0) !== (b.gid ?? 0)) return false;
  if (a.type === 'file' && b.type === 'file') return Buffer.from(a.content).equals(Buffer.from(b.content));
  if ((a.type === 'symlink' || a.type === 'hardlink') && (b.type === 'symlink' || b.type === 'hardlink')) return a.target === b.target;
  return true;
}

/**
 * Entries with their parent directories (0755, root) added, sorted by path. Directory paths
 * end in `/` as tar writers do. The same item listed twice is kept once; two different items
 * for one path are an error. Hardlink targets are made relative too.
 */
export function rootfsEntries(items: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const item of items) {
    const path = relative(item.path);
    const entry: LayerEntry = item.type === 'hardlink' ? { ...item, path, target: relative(item.target) } : { ...item, path };
    const existing = byPath.get(path);
    if (existing !== undefined && !sameEntry(existing, entry)) {
      throw new SyscontainerError('EINVAL', `rootfs entry "${path}" is listed twice with different content`);
    }
    byPath.set(path, entry);
  }
  for (const path of [...byPath.keys()]) {
    for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) {
      const existing = byPath.get(dir);
      if (existing === undefined) byPath.set(dir, { type: 'dir', path: dir, mode: 0o755 });
      else if (existing.type !== 'dir') throw new SyscontainerError('EINVAL', `rootfs entry "${dir}" is a ${existing.type} but has entries below it`);
    }
  }
  return [...byPath.keys()]
    .sort()
    .map((path) => {
      const entry = byPath.get(path) as LayerEntry;
      return entry.type === 'dir' ? { ...entry, path: `${path}/` } : entry;
    });
}
