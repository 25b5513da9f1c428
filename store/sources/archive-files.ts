// What the two archive sources (oci-archive:, docker-archive:) share: the untrusted tar is
// unpacked once into a private directory, regular files under plain relative names only, and
// its small files (index, manifests, configs) are read with a bound.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { SyscontainerError } from '../../common/errors.js';

const maxArchiveEntries = 100_000;

/** A name inside an archive as a safe relative path (`./` and a trailing `/` dropped), or undefined. */
export function safeArchiveName(raw: string): string | undefined {
  const name = path.posix.normalize(raw.replace(/^(\.\/)+/, '')).replace(/\/$/, '');
  if (name === '' || name === '.' || name.startsWith('/') || name.split('/').includes('..')) return undefined;
  return name;
}

/**
 * Writes the regular files of tar `file` whose safe name `wanted` accepts under `dest` (0600);
 * links, devices, other entries and names that would escape are skipped. A name repeated in
 * the archive is refused (EEXIST), as is an archive of more than 100,000 entries (ELIMIT).
 */
export async function extractArchive(file: string, dest: string, wanted: (name: string) => boolean = () => true): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(file), extract);
  // A read error also comes out of the loop below; a loop error destroys `extract`, which
  // rejects `feeding` too. Either way the loop's error is the one reported.
  feeding.catch(() => undefined);
  let entries = 0;
  for await (const entry of extract) {
    entries += 1;
    if (entries > maxArchiveEntries) throw new SyscontainerError('ELIMIT', `${file}: more than ${maxArchiveEntries} entries`);
    const name = safeArchiveName(entry.header.name);
    if (entry.header.type !== 'file' || name === undefined || !wanted(name)) {
      entry.resume();
      continue;
    }
    const target = path.join(dest, name);
    await mkdir(path.dirname(target), { recursive: true });
    // 'wx': a name repeated in the archive is refused instead of silently replaced.
    await pipeline(entry, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
  }
  await feeding;
}

/**
 * The whole of `file`, refused (ELIMIT) when larger than `max` bytes. A missing file fails as
 * `missing` says (default ENOTFOUND "WHAT: not found"), any other open error with EMANIFEST.
 */
export async function readBounded(
  file: string,
  max: number,
  what: string,
  missing: { code: 'ENOTFOUND' | 'EMANIFEST'; text: string } = { code: 'ENOTFOUND', text: 'not found' },
): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SyscontainerError(missing.code, `${what}: ${missing.text}`, { cause: error });
    throw new SyscontainerError('EMANIFEST', `${what}: cannot be read`, { cause: error });
  }
  try {
    const { size } = await handle.stat();
    if (size > max) throw new SyscontainerError('ELIMIT', `${what}: ${size} bytes exceeds the limit of ${max}`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
