// This package's version, from the package.json above this file (dist/ or dist/cli/).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++, dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'syscontainer') return manifest.version ?? 'unknown';
    } catch {
      // not here: look one directory up
    }
  }
  return 'unknown';
}
