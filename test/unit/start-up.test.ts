// What keeps the CLI's start-up short (every command pays it; the health-check timer runs one
// per container per interval), held by reading the sources and the built bundle:
// - cli/main.ts imports statically only what parsing argv and `--version` need; the commands
//   and the application layer come through `await import()`, which the bundle leaves unrun;
// - the bundle imports no built-in module at its top (scripts/bundle.mjs loads them on use);
// - zod is imported as a namespace: `import { z } from 'zod'` pulls every locale into the bundle.
// The figures themselves are in `npm run bench` (the start-up section), not in a timed test.
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const root = repoRoot();

/** Static (not type-only) import specifiers of a TypeScript source. */
function staticImports(text: string): string[] {
  return [...text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'([^']+)';/gm)].map((match) => match[1] as string);
}

test('cli/main.ts statically imports only argv parsing, help and the version', async (t) => {
  const text = await readFile(path.join(root, 'cli', 'main.ts'), 'utf8');
  t.deepEqual(staticImports(text).sort(), ['./help.js', './version.js', 'node:util']);
  t.regex(text, /import\('\.\/commands\/index\.js'\)/);
  t.regex(text, /import\('\.\.\/app\/index\.js'\)/);
});

test('the bundle imports no built-in module at its top but node:module (for require)', async (t) => {
  const bundle = path.join(root, 'dist', 'syscontainer.mjs');
  if (!existsSync(bundle)) return t.fail('dist/syscontainer.mjs is missing: npm run build');
  const text = await readFile(bundle, 'utf8');
  const topImports = [...text.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((match) => match[1]);
  t.deepEqual(topImports, ['node:module']);
});

test("no source imports zod's z export (it drags every locale into the bundle)", async (t) => {
  const offenders: string[] = [];
  for (const dir of ['common', 'store', 'runtime', 'app', 'cli', 'api']) {
    if (!existsSync(path.join(root, dir))) continue;
    for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.join(entry.parentPath ?? entry.path, entry.name);
      if (/^import\s+\{[^}]*\bz\b[^}]*\}\s+from\s+'zod'/m.test(await readFile(file, 'utf8'))) offenders.push(path.relative(root, file));
    }
  }
  t.deepEqual(offenders, [], "use `import * as z from 'zod'`");
});
