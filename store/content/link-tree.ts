// Copying a checked-out tree as hardlinks: `cp -a --link`, directories made anew with their
// modes, owners, timestamps and xattrs, every other entry a hardlink to the same inode (for a
// rootfs, the repository's object). The one place that runs cp and find.
import { execa } from 'execa';
import { SyscontainerError } from '../../common/errors.js';

function failure(what: string, result: { stderr?: unknown; message?: string }): SyscontainerError {
  const stderr = String(result.stderr ?? result.message).trim().split('\n').pop() ?? '';
  return new SyscontainerError('ESTORE', `${what}: ${stderr}`, { cause: result });
}

/** Fills the existing, empty directory `dest` with `src`'s tree, hardlinked. Not atomic: the caller builds in a temporary directory. */
export async function linkTree(src: string, dest: string): Promise<void> {
  const result = await execa('cp', ['-a', '--link', '--no-target-directory', '--', `${src}/.`, dest], { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0 || result.failed) throw failure(`hardlink copy of ${src}`, result);
}

/**
 * Entries of a checked-out tree that may not come from the repository: empty directories and
 * regular files with no other link (a checkout hardlinks every file to its object), such as the
 * mount points runc makes in a rootfs. Paths relative to `dir`, latin1 (as OstreeRepo.listPaths).
 */
export async function unlinkedEntries(dir: string): Promise<string[]> {
  const result = await execa('find', [dir, '-mindepth', '1', '-xdev', '(', '-type', 'd', '-empty', '-o', '-type', 'f', '-links', '1', ')', '-printf', '%P\\0'], {
    reject: false,
    stdin: 'ignore',
    encoding: 'buffer',
  });
  if (result.exitCode !== 0 || result.failed) throw failure(`find in ${dir}`, { stderr: Buffer.from((result.stderr as Uint8Array | undefined) ?? []).toString('utf8'), message: result.message });
  return Buffer.from(result.stdout as Uint8Array).toString('latin1').split('\0').filter((path) => path.length > 0);
}
