// A freshly made filesystem for every timed run: an ext4 in a loop-mounted image of the same
// size at the same path, made again (mkfs) before each run. The machine's root filesystem is
// mounted with `discard`, and creating files right after a big delete there is slower (tar -x
// of the same tars: 7.0 s, then 10.2 s right after a delete, 5.0 s on a fresh ext4): a storage
// dir on it measures the previous run's deletes as much as the tool.
// - The image file is allocated once (fallocate) and never deleted between runs, so the runs
//   neither allocate nor free blocks of the root filesystem.
// - mkfs without discard (a discard on the loop device would punch holes in the image file)
//   and with the inode tables and journal initialised at once (no ext4lazyinit writing in the
//   background of the timed run).
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FreshFilesystem {
  /** Where the filesystem is mounted while a run uses it. */
  readonly mountPoint: string;
  /** mkfs and mount (untimed), then sync so no earlier dirty page is written on the next clock. */
  make(): Promise<void>;
  /** Unmounts; the image stays for the next make(). */
  unmount(): Promise<void>;
  /** Unmounts and deletes the image (once, at the end). */
  remove(): Promise<void>;
}

export function freshFilesystem(workDir: string, sizeBytes: number): FreshFilesystem {
  const image = join(workDir, 'fresh-fs.img');
  const mountPoint = join(workDir, 'fresh-fs');
  let allocated = false;
  let mounted = false;
  const unmount = async (): Promise<void> => {
    if (!mounted) return;
    await run('umount', [mountPoint]);
    mounted = false;
  };
  return {
    mountPoint,
    async make() {
      await unmount();
      if (!allocated) {
        await rm(image, { force: true });
        await run('fallocate', ['-l', String(sizeBytes), image]);
        await mkdir(mountPoint, { recursive: true });
        allocated = true;
      }
      await run('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard,lazy_itable_init=0,lazy_journal_init=0', image]);
      await run('mount', ['-o', 'loop', image, mountPoint]);
      mounted = true;
      await run('sync');
    },
    unmount,
    async remove() {
      await unmount().catch(() => undefined);
      await rm(image, { force: true });
    },
  };
}
