// manifest.json `renameFiles`, as Atomic applied it: while a hostfs path is built up component
// by component, each prefix found in the map is replaced by its value, so
// {"/usr/local/bin/etcdctl": "/usr/local/bin/${NAME}ctl"} renames a file and
// {"/etc/etcd": "$CONF_DIRECTORY/$NAME"} moves a whole directory. Values may hold variables.
// Every path that comes out is checked: absolute, no `.` or `..` components, no empty ones, so
// joined to the host root it cannot leave it.
import { SyscontainerError } from '../common/errors.js';
import { renderAtomicTemplate, type TemplateValues } from './atomic-template.js';

const maxPathLength = 4096;

/** Whether `p` is `/a/b/c`: absolute, no empty, `.` or `..` components, no NUL. Pure. */
export function isCleanAbsolutePath(p: string): boolean {
  if (!p.startsWith('/') || p.length > maxPathLength || p.includes('\0')) return false;
  if (p === '/') return true;
  const parts = p.slice(1).split('/');
  return parts.every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Throws EMANIFEST naming the image and the path unless `p` is clean (see above). */
export function checkHostfsPath(p: string, imageName: string, what: string): void {
  if (!isCleanAbsolutePath(p) || p === '/') {
    throw new SyscontainerError('EMANIFEST', `image ${imageName}: ${what} ${JSON.stringify(p)} is not a plain absolute path (refused: it could leave the host root)`);
  }
}

/**
 * The renameFiles map with its values rendered from `values`; keys and rendered values are
 * checked. Throws ETEMPLATE for an unset variable, EMANIFEST for a bad path. Pure.
 */
export function renderRenameFiles(renameFiles: Readonly<Record<string, string>>, values: TemplateValues, imageName: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [from, template] of Object.entries(renameFiles)) {
    checkHostfsPath(from, imageName, 'renameFiles key');
    const to = renderAtomicTemplate(template, values, `image ${imageName}: /exports/manifest.json renameFiles[${JSON.stringify(from)}]`);
    checkHostfsPath(to, imageName, `renameFiles[${JSON.stringify(from)}] renders to`);
    out.set(from, to);
  }
  return out;
}

/** `p` (a clean absolute path) after renaming, prefix by prefix as Atomic did. Pure. */
export function renamePath(p: string, renames: ReadonlyMap<string, string>): string {
  if (renames.size === 0) return p;
  let built = '';
  for (const part of p.split('/').slice(1)) {
    built = `${built}/${part}`;
    built = renames.get(built) ?? built;
  }
  return built;
}
