// Reads files of the build host for image definitions (binaries from Debian packages, their
// shared libraries). The one place that runs `ldd`. Content differs between hosts; the
// same host files give the same layer digests.
import { readFile, realpath, stat } from 'node:fs/promises';
import { execa } from 'execa';
import { SyscontainerError } from '../../common/errors.js';

/** The OCI platform of this host, for images built from its binaries. */
export { hostPlatform } from '../../store/oci/platform.js';

export interface HostFile {
  /** Absolute path in the image; the same as on the host unless given otherwise. */
  path: string;
  content: Buffer;
  /** Permission bits (of the file the host path resolves to). */
  mode: number;
}

/** One host file (symlinks followed) placed at `imagePath`. Throws ENOTFOUND with a hint. */
export async function readHostFile(hostPath: string, imagePath: string = hostPath, hint?: string): Promise<HostFile> {
  try {
    const real = await realpath(hostPath);
    const [content, info] = await Promise.all([readFile(real), stat(real)]);
    if (!info.isFile()) throw new SyscontainerError('EINVAL', `${hostPath}: not a regular file`);
    return { path: imagePath, content, mode: info.mode & 0o7777 };
  } catch (error) {
    if (error instanceof SyscontainerError) throw error;
    throw new SyscontainerError('ENOTFOUND', `${hostPath}: cannot read the host file for the image`, {
      cause: error,
      ...(hint !== undefined ? { hint } : {}),
    });
  }
}

/**
 * The shared objects a dynamic ELF binary loads, as the paths it names them by (the
 * interpreter, e.g. /lib64/ld-linux-x86-64.so.2, and the resolved libraries). Empty for a
 * static binary. Runs the host's `ldd`, so only use it on trusted host binaries.
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await execa('ldd', [binary], { reject: false, env: { LC_ALL: 'C' } });
  if (result.exitCode !== 0) {
    if (/not a dynamic executable|statically linked/.test(`${result.stdout}\n${result.stderr}`)) return [];
    throw new SyscontainerError('EINVAL', `${binary}: ldd failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  }
  const paths = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    if (/statically linked/.test(line)) return [];
    if (/=> not found/.test(line)) throw new SyscontainerError('EINVAL', `${binary}: ${line.trim()}`);
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1] !== undefined) paths.add(match[1]);
  }
  return [...paths].sort();
}

/** A binary and, when it is dynamic, every library it loads, each at its host path. */
export async function readHostBinary(binary: string, hint?: string): Promise<HostFile[]> {
  const main = await readHostFile(binary, binary, hint);
  const libraries = await sharedLibraries(binary);
  return [main, ...(await Promise.all(libraries.map((lib) => readHostFile(lib))))];
}

