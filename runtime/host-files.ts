// Files an image puts on the host (/exports/hostfs), as Atomic did, but safer:
//  - stage: the image's hostfs tree is rendered into the deployment (DESTDIR/hostfs) with
//    renameFiles and installedFilesTemplate applied, and every file's digest recorded; so a
//    rollback restores a deployment's files from its own copy, even without a rootfs;
//  - apply: switches the host from one deployment's files to another's: never over a file
//    that is not ours (EEXIST naming it), replacing or removing only files unmodified since
//    we wrote them; a modified one is kept and reported;
//  - remove: on uninstall, unmodified files go, modified ones are kept and reported.
// An empty directory of hostfs is installed too (recorded as `empty-directory`), and removed
// again only while it is still empty.
// Everything lands under `hostRoot` (default /): paths are plain (no `..`), existing parent
// symlinks must resolve inside hostRoot, and files are created without following links.
import { link, lstat, mkdir, open, readdir, readFile, readlink, realpath, rename, rm, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import { renderAtomicTemplate, type TemplateValues } from './atomic-template.js';
import { checkHostfsPath, isCleanAbsolutePath, renamePath } from './rename-files.js';
import { resolveInRootfs } from './rootfs-files.js';
import { sha256Digest } from '../common/digest.js';

/** One host file of a deployment, as recorded in its info. */
export interface HostFileRecord {
  /** Absolute path on the host, relative to the host root (after renaming). */
  path: string;
  /** `sha256:HEX` of a regular file's content, or `symlink:TARGET`. */
  digest: string;
  /** Permission bits (no setuid/setgid/sticky). */
  mode: number;
}

const maxFiles = 10_000;
const maxFileBytes = 64 * 1024 * 1024;
const maxTotalBytes = 256 * 1024 * 1024;
const maxTemplateBytes = 1024 * 1024;

/** Host path of `p` under `hostRoot`. `p` must be a clean absolute path. Pure. */
export function hostPathOf(hostRoot: string, p: string): string {
  if (!isCleanAbsolutePath(p)) throw new SyscontainerError('EINVAL', `host file ${JSON.stringify(p)}: not a plain absolute path`);
  return path.join(hostRoot, p);
}

/** The "digest" of an empty directory of hostfs: made on the host, removed when still empty. */
export const emptyDirectory = 'empty-directory';

/** The digest of what is at `file` now (not following a final symlink); undefined when absent, 'other' for anything else. */
export async function currentDigest(file: string): Promise<string | undefined> {
  let stats;
  try {
    stats = await lstat(file);
  } catch {
    return undefined;
  }
  if (stats.isSymbolicLink()) return `symlink:${await readlink(file)}`;
  if (stats.isDirectory()) return (await readdir(file)).length === 0 ? emptyDirectory : 'directory';
  if (!stats.isFile()) return 'other';
  return sha256Digest(await readFile(file));
}

/** Whether a symlink at host path `linkPath` (clean, absolute) with `target` stays inside the root. Pure. */
function symlinkStaysInside(linkPath: string, target: string, hostRootIsSlash: boolean): boolean {
  if (target.startsWith('/')) return hostRootIsSlash;
  let depth = linkPath.split('/').length - 2; // components of the link's directory
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    depth += part === '..' ? -1 : 1;
    if (depth < 0) return false;
  }
  return true;
}

export interface StageInput {
  /** The deployment's rootfs (untrusted). */
  rootfs: string;
  /** Where the rendered tree goes (DESTDIR/hostfs); must not exist. */
  stageDir: string;
  renames: ReadonlyMap<string, string>;
  /** manifest.json installedFilesTemplate: host paths whose content gets variable substitution. */
  templates: readonly string[];
  values: TemplateValues;
  imageName: string;
  /** The host root the files will be applied under; decides whether absolute symlinks are allowed. */
  hostRoot: string;
}

/**
 * Renders the image's /exports/hostfs into `stageDir` (renamed, templated) and returns the
 * records, sorted by path; [] when the image has none. Throws EMANIFEST for a path or symlink
 * that would leave the host root, ELIMIT past the size bounds, ETEMPLATE for a bad template.
 */
export async function stageHostFiles(input: StageInput): Promise<HostFileRecord[]> {
  const hostfs = await resolveInRootfs(input.rootfs, '/exports/hostfs');
  if (hostfs === undefined || !(await lstat(hostfs)).isDirectory()) return [];
  const templates = new Set(input.templates);
  const records = new Map<string, HostFileRecord>();
  let total = 0;
  const walk = async (rel: string): Promise<void> => {
    for (const entry of (await readdir(path.join(hostfs, rel))).sort()) {
      const original = `${rel}/${entry}`;
      checkHostfsPath(original, input.imageName, 'hostfs path');
      const source = path.join(hostfs, original);
      const stats = await lstat(source);
      if (stats.isDirectory()) {
        // An empty directory is installed as such (Atomic's images ship placeholder directories).
        if ((await readdir(source)).length === 0) {
          const target = renamePath(original, input.renames);
          checkHostfsPath(target, input.imageName, `hostfs directory ${original} renamed to`);
          await mkdir(path.join(input.stageDir, target), { recursive: true, mode: 0o755 });
          records.set(target, { path: target, digest: emptyDirectory, mode: stats.mode & 0o777 });
        }
        await walk(original);
        continue;
      }
      if (!stats.isFile() && !stats.isSymbolicLink()) continue; // devices, fifos: never onto the host
      const target = renamePath(original, input.renames);
      checkHostfsPath(target, input.imageName, `hostfs file ${original} renamed to`);
      if (records.has(target)) throw new SyscontainerError('EMANIFEST', `image ${input.imageName}: two hostfs files are installed as ${target}`);
      if (records.size >= maxFiles) throw new SyscontainerError('ELIMIT', `image ${input.imageName}: more than ${maxFiles} hostfs files`);
      const staged = path.join(input.stageDir, target);
      await mkdir(path.dirname(staged), { recursive: true, mode: 0o755 });
      if (stats.isSymbolicLink()) {
        const linkTarget = await readlink(source);
        if (!symlinkStaysInside(target, linkTarget, path.resolve(input.hostRoot) === '/')) {
          throw new SyscontainerError('EMANIFEST', `image ${input.imageName}: hostfs symlink ${original} -> ${linkTarget} points outside the host root (refused)`);
        }
        await symlink(linkTarget, staged);
        records.set(target, { path: target, digest: `symlink:${linkTarget}`, mode: 0o777 });
        continue;
      }
      total += stats.size;
      if (stats.size > maxFileBytes || total > maxTotalBytes) {
        throw new SyscontainerError('ELIMIT', `image ${input.imageName}: hostfs files exceed ${stats.size > maxFileBytes ? `${maxFileBytes} bytes for ${original}` : `${maxTotalBytes} bytes in all`}`);
      }
      let content: Buffer = await readFile(source);
      if (templates.has(target) || templates.has(original)) {
        if (content.length > maxTemplateBytes) throw new SyscontainerError('ELIMIT', `image ${input.imageName}: template ${original} is larger than ${maxTemplateBytes} bytes`);
        content = Buffer.from(renderAtomicTemplate(content.toString('utf8'), input.values, `image ${input.imageName}: /exports/hostfs${original}`));
      }
      const mode = stats.mode & 0o777;
      await writeFile(staged, content, { mode, flag: 'wx' });
      records.set(target, { path: target, digest: sha256Digest(content), mode });
    }
  };
  await walk('');
  return [...records.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Makes the parent directories of host path `p`; an existing symlink among them must resolve inside the root. */
async function ensureParents(hostRoot: string, p: string): Promise<void> {
  await mkdir(hostRoot, { recursive: true, mode: 0o755 }); // '/' always exists; a test root may not yet
  const realRoot = await realpath(hostRoot);
  let current = hostRoot;
  for (const part of path.dirname(p).split('/').filter(Boolean)) {
    current = path.join(current, part);
    let stats;
    try {
      stats = await lstat(current);
    } catch {
      await mkdir(current, { mode: 0o755 });
      continue;
    }
    if (stats.isDirectory()) continue;
    if (stats.isSymbolicLink()) {
      const real = await realpath(current).catch(() => '');
      const inside = real === realRoot || real.startsWith(realRoot === '/' ? '/' : `${realRoot}/`);
      if (inside && real !== '' && (await lstat(real)).isDirectory()) continue;
    }
    throw new SyscontainerError('EEXIST', `host file ${path.join(hostRoot, p)}: ${current} is not a directory inside the host root`);
  }
}

/** Puts the staged `record` at its host path: `replace` overwrites what is there, otherwise it must not exist. */
async function putFile(hostRoot: string, stageDir: string, record: HostFileRecord, replace: boolean): Promise<void> {
  const dest = hostPathOf(hostRoot, record.path);
  const staged = path.join(stageDir, record.path);
  await ensureParents(hostRoot, record.path);
  if (record.digest === emptyDirectory) {
    await mkdir(dest, { mode: record.mode }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    return;
  }
  if (record.digest.startsWith('symlink:')) {
    if (replace) await rm(dest, { force: true });
    await symlink(record.digest.slice('symlink:'.length), dest);
    return;
  }
  const content = await readFile(staged);
  if (sha256Digest(content) !== record.digest) throw new SyscontainerError('EINTEGRITY', `staged host file ${staged}: content does not match its recorded digest`);
  const temp = path.join(path.dirname(dest), `.${path.basename(dest)}.syscontainer-tmp`);
  await rm(temp, { force: true });
  const handle = await open(temp, 'wx', record.mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(record.mode);
  } finally {
    await handle.close();
  }
  try {
    // link() never follows or replaces an existing name: a file that appeared meanwhile is kept.
    if (replace) await rename(temp, dest);
    else await link(temp, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(dest);
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

function existsError(file: string): SyscontainerError {
  return new SyscontainerError('EEXIST', `host file ${file} already exists and was not installed by this container`, {
    hint: 'move it away (or rename it with --set where the image allows) and try again',
  });
}

export interface HostFilesSwitch {
  /** Host paths (under hostRoot) left alone because they were modified since installed. */
  kept: string[];
}

/**
 * Switches the host from `from` (the records of the deployment now applied, if any) to `to`
 * (staged in `toStage`). Checks first: a file of `to` where a different host file exists that
 * `from` did not install fails with EEXIST and nothing changes (an identical one is taken over). Then files of `from` unmodified since
 * are replaced or removed, modified ones kept (reported), new ones written. On a failure
 * midway the files written so far are removed and those replaced restored from `fromStage`.
 */
export async function applyHostFiles(
  hostRoot: string,
  to: { records: readonly HostFileRecord[]; stageDir: string },
  from?: { records: readonly HostFileRecord[]; stageDir: string },
): Promise<HostFilesSwitch> {
  const previous = new Map((from?.records ?? []).map((r) => [r.path, r]));
  const next = new Map(to.records.map((r) => [r.path, r]));
  const plan: { record: HostFileRecord; replace: boolean }[] = [];
  const kept: string[] = [];
  const removals: string[] = [];
  for (const record of to.records) {
    const dest = hostPathOf(hostRoot, record.path);
    const now = await currentDigest(dest);
    const mine = previous.get(record.path);
    if (now === undefined) plan.push({ record, replace: false });
    // A directory the host has already: nothing to write (and nothing to refuse).
    else if (record.digest === emptyDirectory && (now === emptyDirectory || now === 'directory')) continue;
    // Exactly the content we would write (left by an interrupted command): taken over, not written.
    else if (mine === undefined && now === record.digest) continue;
    else if (mine === undefined) throw existsError(dest);
    else if (now === mine.digest) {
      if (now !== record.digest) plan.push({ record, replace: true });
    } else if (now !== record.digest) kept.push(dest);
  }
  for (const record of previous.values()) {
    if (next.has(record.path)) continue;
    const dest = hostPathOf(hostRoot, record.path);
    const now = await currentDigest(dest);
    if (now === record.digest) removals.push(dest);
    else if (now !== undefined) kept.push(dest);
  }
  const done: { record: HostFileRecord; replace: boolean }[] = [];
  try {
    for (const step of plan) {
      await putFile(hostRoot, to.stageDir, step.record, step.replace);
      done.push(step);
    }
  } catch (error) {
    for (const step of done.reverse()) {
      const old = previous.get(step.record.path);
      if (step.replace && old !== undefined && from !== undefined) await putFile(hostRoot, from.stageDir, old, true).catch(() => undefined);
      else await unlink(hostPathOf(hostRoot, step.record.path)).catch(() => undefined);
    }
    throw error;
  }
  for (const file of removals) await removeOne(file);
  return { kept: kept.sort() };
}

/** Removes a file, symlink or empty directory. */
async function removeOne(file: string): Promise<void> {
  if ((await currentDigest(file)) === emptyDirectory) await rmdir(file).catch(() => undefined);
  else await rm(file, { force: true });
}

/** Removes the host files of `records` that are unmodified; returns the modified ones it kept. Idempotent. */
export async function removeHostFiles(hostRoot: string, records: readonly HostFileRecord[]): Promise<HostFilesSwitch> {
  const kept: string[] = [];
  for (const record of records) {
    const dest = hostPathOf(hostRoot, record.path);
    const now = await currentDigest(dest);
    if (now === record.digest) await removeOne(dest);
    else if (now !== undefined) kept.push(dest);
  }
  return { kept: kept.sort() };
}
