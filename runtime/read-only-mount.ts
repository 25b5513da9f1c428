// `mount IMAGE|NAME DIR` and `umount DIR`, as Atomic's for system containers: a rootfs shown
// at DIR for inspection, read-only. The one wrapper of mount(8)/umount(8). The rootfs is
// bind-mounted, not copied: the image's shared rootfs or the container's, whose files are
// hardlinked into the store, so the mount is read-only (a write would corrupt the store).
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { SyscontainerError } from '../common/errors.js';

async function run(args: string[], what: string): Promise<void> {
  const result = await execa(args[0]!, args.slice(1), { reject: false, stdin: 'ignore' });
  if (result.failed) throw new SyscontainerError('ERUNTIME', `${what}: ${String(result.stderr || result.shortMessage).trim().split('\n')[0]}`, { cause: result });
}

/** Whether `dir` is a mount point (by /proc/self/mountinfo). */
async function isMountPoint(dir: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and the like octal-escaped.
  return text.split('\n').some((line) => line.split(' ')[4]?.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))) === dir);
}

/** Bind-mounts `source` read-only at `dir`, which must be an empty directory that is no mount point. */
export async function mountReadOnly(source: string, dir: string): Promise<string> {
  const target = path.resolve(dir);
  const stats = await lstat(target).catch(() => undefined);
  if (stats === undefined || !stats.isDirectory()) throw new SyscontainerError('ENOTFOUND', `mount point ${target} is not a directory`);
  const real = await realpath(target);
  if (await isMountPoint(real)) throw new SyscontainerError('EEXIST', `${real} is already a mount point`, { hint: `syscontainer umount ${real} first` });
  if ((await readdir(real)).length > 0) throw new SyscontainerError('EINVAL', `mount point ${real} is not empty`);
  await run(['mount', '--bind', source, real], `mount ${real}`);
  // A bind mount takes read-only only on a remount.
  await run(['mount', '-o', 'remount,bind,ro', real], `mount ${real} read-only`).catch(async (error: unknown) => {
    await run(['umount', real], `umount ${real}`).catch(() => undefined);
    throw error;
  });
  return real;
}

/** Unmounts what `mount` put at `dir`. ENOTFOUND when nothing is mounted there. */
export async function unmountReadOnly(dir: string): Promise<string> {
  const real = await realpath(path.resolve(dir)).catch(() => path.resolve(dir));
  if (!(await isMountPoint(real))) throw new SyscontainerError('ENOTFOUND', `nothing is mounted at ${real}`);
  await run(['umount', real], `umount ${real}`);
  return real;
}
