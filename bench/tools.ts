// Command lines of the tools compared (syscontainer, podman, skopeo), and the chores around
// them: fresh storage directories, disk usage, removal. Each tool gets its storage in a
// directory of its own under the bench's work dir, so every cold run starts empty.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CommandSpec } from './runner.js';

const run = promisify(execFile);

export type PodmanDriver = 'overlay' | 'vfs';

/** `syscontainer --root ROOT pull REF`; prints the manifest digest. Host registries.conf ignored. */
export function syscontainerPull(cli: string, root: string, ref: string): CommandSpec {
  return { argv: [process.execPath, cli, '--root', root, 'pull', ref], env: { SYSCONTAINER_REGISTRIES_CONF: '/nonexistent' } };
}

/** podman's global options for a private storage (graph root + run root) and no daemons. */
export function podmanGlobal(driver: PodmanDriver, root: string): string[] {
  return [
    '--root', join(root, 'storage'),
    '--runroot', join(root, 'run'),
    '--tmpdir', join(root, 'tmp'),
    '--storage-driver', driver,
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'none',
  ];
}

/** `podman pull` over plain HTTP (--tls-verify=false) into the storage under `root`; -q prints the image id. */
export function podmanPull(driver: PodmanDriver, root: string, ref: string): CommandSpec {
  return { argv: ['podman', ...podmanGlobal(driver, root), 'pull', '-q', '--tls-verify=false', ref] };
}

/**
 * `podman run --rm` of a stored image, with runc (crun fails on RLIMIT_NOFILE in these VMs).
 * Not measured yet: for the install/start rows to come.
 */
export function podmanRun(driver: PodmanDriver, root: string, ref: string, command: string[]): CommandSpec {
  return { argv: ['podman', ...podmanGlobal(driver, root), 'run', '--rm', '--runtime', 'runc', '--network', 'none', ref, ...command] };
}

/** `skopeo copy docker://REF oci:DIR:bench`: download and verify only, no decompression. */
export function skopeoCopy(dir: string, ref: string): CommandSpec {
  return { argv: ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:bench`] };
}

/** A new empty directory under `parent`. */
export async function freshDir(parent: string, label: string): Promise<string> {
  return mkdtemp(join(parent, `${label}-`));
}

export interface DiskUsage {
  /** du -sb: apparent bytes, each hardlinked inode once. */
  apparent: number;
  /** du -s -B1: allocated bytes (blocks), each hardlinked inode once. */
  allocated: number;
}

export async function diskUsage(path: string): Promise<DiskUsage> {
  const apparent = await run('du', ['-sb', path]);
  const allocated = await run('du', ['-s', '-B1', path]);
  return { apparent: Number(apparent.stdout.split('\t')[0]), allocated: Number(allocated.stdout.split('\t')[0]) };
}

/** Removes `path`, unmounting first whatever is mounted below it (podman's overlay may mount). */
export async function removeTree(path: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point === path || point.startsWith(`${path}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await run('umount', ['-l', point]).catch(() => undefined);
  await rm(path, { recursive: true, force: true });
}

/** Whether podman can use `driver` here: a storage is set up and `podman info` reports it. */
export async function podmanSupports(driver: PodmanDriver, scratch: string): Promise<boolean> {
  const root = await freshDir(scratch, `probe-${driver}`);
  try {
    const { stdout } = await run('podman', [...podmanGlobal(driver, root), 'info', '--format', '{{.Store.GraphDriverName}}']);
    return stdout.trim() === driver;
  } catch {
    return false;
  } finally {
    await removeTree(root);
  }
}
