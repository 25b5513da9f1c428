// Golden files live in the source tree (test/golden); UPDATE_GOLDEN=1 rewrites them.
import type { ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export const goldenDir = path.join(repoRoot(), 'test', 'golden');

export async function matchesGolden(t: ExecutionContext, file: string, actual: string): Promise<void> {
  const golden = path.join(goldenDir, file);
  if (process.env.UPDATE_GOLDEN === '1') await writeFile(golden, actual);
  t.is(actual, await readFile(golden, 'utf8'), `differs from test/golden/${file} (UPDATE_GOLDEN=1 to accept)`);
}
