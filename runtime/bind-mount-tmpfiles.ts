// Atomic's fallback for images that ship /exports but no tmpfiles.template: every bind-mount
// source of config.json that does not exist yet gets a tmpfiles.d `d` line, so runc finds it
// (a missing source fails the mount) and `systemd-tmpfiles --create` makes it again at boot.
import { SyscontainerError } from '../common/errors.js';
import { pathExists } from '../common/path-exists.js';
import type { OciMount } from './oci-runtime-spec.js';

// Lands unquoted in a tmpfiles line: no whitespace, quotes, `%` (specifiers) or backslashes.
const safeTmpfilesPath = /^\/[A-Za-z0-9._/+:@,=-]*$/;

const isBind = (m: OciMount) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');

/**
 * tmpfiles.d text with a `d SOURCE 0755 root root - -` line per absolute bind-mount source
 * missing on the host now, or undefined when none is. Throws ETEMPLATE for a source that
 * cannot be written into a tmpfiles line. Reads the filesystem, writes nothing.
 */
export async function missingBindSourcesTmpfiles(mounts: readonly OciMount[], exists: (p: string) => Promise<boolean> = pathExists): Promise<string | undefined> {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const mount of mounts) {
    const source = mount.source;
    if (!isBind(mount) || source === undefined || !source.startsWith('/') || seen.has(source)) continue;
    seen.add(source);
    if (await exists(source)) continue;
    if (!safeTmpfilesPath.test(source) || source.split('/').includes('..')) {
      throw new SyscontainerError('ETEMPLATE', `config.json: bind-mount source ${JSON.stringify(source)} does not exist and cannot be made by systemd-tmpfiles (spaces, quotes, "%", "\\" or "..")`);
    }
    lines.push(`d ${source} 0755 root root - -`);
  }
  return lines.length === 0 ? undefined : `${lines.join('\n')}\n`;
}
