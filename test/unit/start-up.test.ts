// What keeps the CLI's start-up short (every command pays it; the health-check timer runs one
// per container per interval), held by reading the sources and the built bundle:
// - cli/main.ts imports statically only what parsing argv and `--version` need; the commands
//   and the application layer come through `await import('./run-command.js')`, which the bundle
//   keeps as deferred code in a comment (V8 does not parse it at start; cli/deferred-code.ts);
// - execa loads on its first call (status, list and health checks never call it);
// - the bundle imports no built-in module at its top (scripts/bundle.mjs loads them on use);
// - zod is imported as a namespace: `import { z } from 'zod'` pulls every locale into the bundle.
// The figures themselves are in `npm run bench` (the start-up section), not in a timed test.
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deferredMarker } from '../../cli/deferred-code.js';

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
  t.regex(text, /import\('\.\/run-command\.js'\)/);
});

async function bundleText(t: ExecutionContext): Promise<string | undefined> {
  const bundle = path.join(root, 'dist', 'syscontainer.mjs');
  if (!existsSync(bundle)) {
    t.fail('dist/syscontainer.mjs is missing: npm run build');
    return undefined;
  }
  return readFile(bundle, 'utf8');
}

test('the bundle imports no built-in module at its top but node:module (for require)', async (t) => {
  const text = await bundleText(t);
  if (text === undefined) return;
  const entry = text.slice(0, text.indexOf(deferredMarker));
  const topImports = [...entry.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((match) => match[1]);
  t.deepEqual(topImports, ['node:module']);
});

test('what V8 parses at start is the small entry; the commands are deferred code in a comment, ASCII, loaded on demand', async (t) => {
  const text = await bundleText(t);
  if (text === undefined) return;
  const start = text.indexOf(deferredMarker);
  t.true(start > 0, 'the deferred code is in the bundle');
  // cli/main.ts, help, version and the loader: ~25 KiB. The whole CLI is ~2 MB.
  t.true(start < 64 * 1024, `the entry part is ${start} bytes`);
  const end = text.indexOf('*/', start + deferredMarker.length);
  t.true(end > start + 1024 * 1024, 'the deferred code ends where its comment does');
  t.regex(text.slice(end), /^\*\/\n\/\/# sourceMappingURL=syscontainer\.mjs\.map\n?$/);
  t.false(/[^\x00-\x7f]/.test(text.slice(start, end)), 'ASCII only: read without UTF-8 decoding');
  // The commands' code is not in the entry part: only the loader's call of it.
  t.false(text.slice(0, start).includes('containers list'), 'no command in the entry part');
});

test('execa, tar-stream, ejs, yaml and smol-toml load when first used, not with the modules that import them', async (t) => {
  const text = await bundleText(t);
  if (text === undefined) return;
  t.regex(text, /"lazy-package:execa"\(exports\d*, module\d*\) \{\n\s*var loaded\d*;\n\s*var load\d* = \(\) => loaded\d* \?\?= \(init_execa\(\), __toCommonJS\(execa_exports\)\);/);
  for (const name of ['tar-stream', 'ejs', 'yaml', 'smol-toml']) t.true(text.includes(`"lazy-package:${name}"(`), name);
});

test('no zod schema is built when its module loads', async (t) => {
  // Every top-level zod expression stands behind builtOnFirstUse (common/built-on-first-use.ts).
  const offenders: string[] = [];
  for (const dir of ['store', 'runtime', 'app', 'api']) {
    for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.join(entry.parentPath ?? entry.path, entry.name);
      for (const match of (await readFile(file, 'utf8')).matchAll(/^(?:export )?const (\w+)(?:: [^=]+)? = (?!builtOnFirstUse\()[^;]*?\bz\s*\.\s*[a-z]/gm)) {
        if (!/^(?:export )?const \w+(?:: [^=]+)? = \(/.test(match[0])) offenders.push(`${path.relative(root, file)}: ${match[1]}`);
      }
    }
  }
  t.deepEqual(offenders, []);
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
