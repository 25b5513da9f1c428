// `systemd-analyze verify` of the units a deployment gets, remembered for the units rendered
// from our own templates. verify costs 90 ms and more per unit (most of a `docker run -d`),
// and two units rendered from our template for the same image differ, as verify reads them,
// only where the container's name stands (its unit name, its directory ROOT/NAME.N, its
// identifier): a unit of that shape that passed once passes again. So the verdict is kept,
// keyed by the unit's text with the name replaced by a token, the image, the unit directory,
// the commands the unit runs (verify checks those are executable: they stay verbatim in the
// key) and the identity of the systemd-analyze binary (an upgrade verifies again). Only a
// clean pass is kept (no error, no warning), in this process: the REST service, which makes
// containers all day, verifies each shape once; a CLI command, once per command, as before,
// and nothing is left on disk. An image's own unit template is verified every time: its text
// is the image's, not ours.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Systemd } from './systemd.js';

const passed = new Set<string>();

export interface UnitToVerify {
  /** The unit file, in its deployment directory. */
  file: string;
  text: string;
  /** The container's name, where it stands in `text` and the file's name. */
  name: string;
  imageName: string;
  /** Rendered from our templates (templates/): its verdict may be kept. */
  ours: boolean;
}

/** dev:ino:size:mtime of the first systemd-analyze in the default PATH's directories, or undefined when there is none. */
async function analyzerIdentity(): Promise<string | undefined> {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const found = await stat(path.join(dir, 'systemd-analyze')).catch(() => undefined);
    if (found?.isFile()) return `${found.dev}:${found.ino}:${found.size}:${found.mtimeMs}`;
  }
  return undefined;
}

/** The first word of every Exec*= line (its -@:+! prefixes dropped): what verify checks is executable. Pure. */
export function unitCommands(text: string): string[] {
  return [...text.matchAll(/^\s*Exec\w*\s*=\s*[-@:+!]*(\S+)/gm)].map((m) => m[1] as string);
}

/** The cache key of `unit` verified with `unitDir` on the search path by `analyzer`. Pure. */
export function verdictKey(unit: Omit<UnitToVerify, 'ours'>, unitDir: string, analyzer: string): string {
  // NUL is in no unit file and no name: the token cannot stand for anything else.
  const shape = (s: string) => s.split(unit.name).join('\0NAME\0');
  const parts = [1, analyzer, unit.imageName, unitDir, unitCommands(unit.text), shape(path.basename(unit.file)), shape(unit.text)];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * systemd.verify of the unit (the slot's directory, then `unitDir`, searched for the units it
 * names), or the kept verdict of a unit of ours of the same shape: then `{ errors: [], warnings: [] }`
 * without a process.
 */
export async function verifyUnit(systemd: Systemd, unitDir: string, unit: UnitToVerify): Promise<{ errors: string[]; warnings: string[] }> {
  const analyzer = unit.ours ? await analyzerIdentity() : undefined;
  const key = analyzer === undefined ? undefined : verdictKey(unit, unitDir, analyzer);
  if (key !== undefined && passed.has(key)) return { errors: [], warnings: [] };
  const verdict = await systemd.verify(unit.file, { unitPath: [path.dirname(unit.file), unitDir] });
  if (key !== undefined && verdict.errors.length === 0 && verdict.warnings.length === 0) passed.add(key);
  return verdict;
}
