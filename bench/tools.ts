// Command lines of the tools compared (syscontainer, podman, skopeo, runc), and the chores
// around them: fresh storage directories, disk usage, removal. Each tool gets its storage in a
// directory of its own under the bench's work dir, so every cold run starts empty.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CommandSpec } from './runner.js';

const run = promisify(execFile);

export type PodmanDriver = 'overlay' | 'vfs';

/** `syscontainer --root ROOT pull REF`; prints the manifest digest. Host registries.conf ignored. */
export function syscontainerPull(cli: string, root: string, ref: string): CommandSpec {
  return { argv: [cli, '--root', root, 'pull', ref], env: { SYSCONTAINER_REGISTRIES_CONF: '/nonexistent' } };
}

/** Where `syscontainer install` writes the unit and the tmpfiles snippet: never the host's /etc. */
export interface HostFileDirs {
  unitDir: string;
  tmpfilesDir: string;
}

/** Fresh unit and tmpfiles directories under `parent`. */
export async function freshHostFileDirs(parent: string, label: string): Promise<HostFileDirs> {
  const dir = await freshDir(parent, label);
  const dirs = { unitDir: join(dir, 'units'), tmpfilesDir: join(dir, 'tmpfiles.d') };
  await mkdir(dirs.unitDir);
  await mkdir(dirs.tmpfilesDir);
  return dirs;
}

/** `syscontainer --root ROOT ARGS...` with the unit and tmpfiles dirs of `dirs`. Host registries.conf ignored. */
export function syscontainer(cli: string, root: string, dirs: HostFileDirs, args: string[]): CommandSpec {
  return {
    argv: [cli, '--root', root, ...args],
    env: { SYSCONTAINER_REGISTRIES_CONF: '/nonexistent', SYSCONTAINER_UNIT_DIR: dirs.unitDir, SYSCONTAINER_TMPFILES_DIR: dirs.tmpfilesDir },
  };
}

/**
 * Stops a container the bench started with `syscontainer start`, as a user would: without
 * systemd the CLI asks the container's monitor to stop and waits for it, so the monitor's
 * restart policy cannot bring the container back while the bench deletes it. A bare `runc
 * delete --force` looks to the monitor like a crash.
 */
export async function syscontainerStop(cli: string, root: string, dirs: HostFileDirs, name: string): Promise<void> {
  const spec = syscontainer(cli, root, dirs, ['stop', name]);
  await run(spec.argv[0] as string, spec.argv.slice(1), { env: { ...process.env, ...spec.env } });
}

/** `syscontainer install --system --name NAME --no-start REF`: a deployment linking the image rootfs, config.json, unit; nothing started. */
export function syscontainerInstall(cli: string, root: string, dirs: HostFileDirs, name: string, ref: string): CommandSpec {
  return syscontainer(cli, root, dirs, ['install', '--system', '--name', name, '--no-start', ref]);
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
 * Options of a container podman runs like syscontainer's: runc (crun fails on RLIMIT_NOFILE in
 * these VMs), the host's network (syscontainer's config.json has no network namespace), and
 * modest rlimits: podman's defaults (nofile 1048576) exceed what root may set without
 * CAP_SYS_RESOURCE here, and runc then fails with "error setting rlimit type 7".
 */
const podmanContainerOptions = ['--runtime', 'runc', '--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

/** `podman create --name NAME` of a stored image with its own command; prints the container id. */
export function podmanCreate(driver: PodmanDriver, root: string, name: string, ref: string): CommandSpec {
  return { argv: ['podman', ...podmanGlobal(driver, root), 'create', ...podmanContainerOptions, '--name', name, ref] };
}

/** `podman run -d --name NAME` of an image (pulled when missing) with its own command, as one argv. */
export function podmanRunDetached(driver: PodmanDriver, root: string, name: string, ref: string): string[] {
  return ['podman', ...podmanGlobal(driver, root), 'run', '-d', '--tls-verify=false', ...podmanContainerOptions, '--name', name, ref];
}

/** `podman run --rm --name NAME` of a stored image with `command` (the image's own command when empty). */
export function podmanRun(driver: PodmanDriver, root: string, name: string, ref: string, command: string[]): CommandSpec {
  return { argv: ['podman', ...podmanGlobal(driver, root), 'run', '--rm', ...podmanContainerOptions, '--name', name, ref, ...command] };
}

/** `podman rm -f NAME-OR-ID`; a container already gone is not an error. */
export async function podmanRemove(driver: PodmanDriver, root: string, container: string): Promise<void> {
  await run('podman', [...podmanGlobal(driver, root), 'rm', '-f', '--ignore', container]);
}

/** `runc delete --force ID`: kills the container if it runs; one that does not exist is not an error. */
export async function runcDelete(id: string): Promise<void> {
  await run('runc', ['delete', '--force', id]).catch((error: { stderr?: string }) => {
    if (!/does not exist|not found/i.test(String(error.stderr ?? ''))) throw error;
  });
}

/**
 * Removes the cgroup directories runc leaves behind for a container without systemd: runc
 * deletes the leaf of `cgroupsPath` (e.g. /system.slice/NAME.service/container) but not its
 * parents. Removes the leaf and, upward, the components that contain `name`, in every cgroup
 * v1 hierarchy and the v2 one; only empty directories go (rmdir), so nothing running is touched.
 */
export async function removeContainerCgroups(cgroupsPath: string, name: string): Promise<void> {
  const parts = cgroupsPath.split('/').filter((part) => part !== '');
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup' || fields[2] === 'cgroup2')
    .map((fields) => fields[1] as string);
  for (const mount of mounts) {
    // The leaf is the container's own; above it, only components named after the container.
    for (let depth = parts.length; depth > 0; depth--) {
      if (depth < parts.length && !(parts[depth - 1] as string).includes(name)) break;
      await rmdir(join(mount, ...parts.slice(0, depth))).catch(() => undefined);
    }
  }
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
