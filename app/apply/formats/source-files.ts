// The files `apply -f PATH` reads: a file, a directory's .yaml/.yml/.json files (sorted, not
// recursive, as kubectl without -R), or `-` for stdin. Read whole and bounded: these are
// configuration files, not data.
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../../../common/errors.js';

export interface SourceFile {
  /** As the user named it (relative paths stay relative): what error lines show. */
  display: string;
  /** Absolute path, or `-` for stdin. */
  path: string;
  text: string;
}

const maxFileBytes = 4 << 20;
const maxFiles = 1000;
const extensions = new Set(['.yaml', '.yml', '.json']);

async function readBounded(file: string, display: string): Promise<string> {
  const stats = await lstat(file).catch(() => undefined);
  if (stats === undefined) throw new SyscontainerError('ENOTFOUND', `${display}: no such file or directory`);
  if (stats.size > maxFileBytes) throw new SyscontainerError('ELIMIT', `${display}: ${stats.size} bytes, more than ${maxFileBytes}`);
  return readFile(file, 'utf8');
}

async function readStdin(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buffer.length;
    if (total > maxFileBytes) throw new SyscontainerError('ELIMIT', `stdin: more than ${maxFileBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads every file `paths` names, in order (a directory's entries sorted by name). Throws
 * ENOTFOUND for a path that does not exist, EINVAL for a directory with no configuration
 * files, ELIMIT past the bounds. `stdin` is read for `-` (once).
 */
export async function readSourceFiles(paths: readonly string[], options: { cwd?: string; stdin?: AsyncIterable<Buffer | string> } = {}): Promise<SourceFile[]> {
  const cwd = options.cwd ?? process.cwd();
  const files: SourceFile[] = [];
  const seen = new Set<string>();
  for (const given of paths) {
    if (given === '-') {
      if (seen.has('-')) throw new SyscontainerError('EUSAGE', '-f - (stdin) given twice');
      if (options.stdin === undefined) throw new SyscontainerError('EUSAGE', '-f -: no standard input to read');
      seen.add('-');
      files.push({ display: 'stdin', path: '-', text: await readStdin(options.stdin) });
      continue;
    }
    const absolute = path.resolve(cwd, given);
    const stats = await lstat(absolute).catch(() => undefined);
    if (stats === undefined) throw new SyscontainerError('ENOTFOUND', `${given}: no such file or directory`);
    if (stats.isDirectory()) {
      const entries = (await readdir(absolute, { withFileTypes: true }))
        .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.') && extensions.has(path.extname(e.name).toLowerCase()))
        .map((e) => e.name)
        .sort();
      if (entries.length === 0) throw new SyscontainerError('EINVAL', `${given}: no .yaml, .yml or .json files in this directory`);
      for (const entry of entries) {
        const file = path.join(absolute, entry);
        if (seen.has(file)) continue;
        seen.add(file);
        const display = path.join(given, entry);
        files.push({ display, path: file, text: await readBounded(file, display) });
      }
    } else {
      if (seen.has(absolute)) continue;
      seen.add(absolute);
      files.push({ display: given, path: absolute, text: await readBounded(absolute, given) });
    }
    if (files.length > maxFiles) throw new SyscontainerError('ELIMIT', `more than ${maxFiles} files to apply`);
  }
  return files;
}

/** paunch's rule, kept: the config id defaults to the base name of the (first) file or directory, without extension. */
export function defaultConfigId(paths: readonly string[]): string | undefined {
  const first = paths[0];
  if (first === undefined || first === '-') return undefined;
  const base = path.basename(path.resolve(first));
  return base.replace(/\.(ya?ml|json)$/i, '');
}
