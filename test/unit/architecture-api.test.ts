// The REST service is a front end: api/ reaches the rest of syscontainer only through the
// application layer's entry (app/index.js), like the CLI; nothing under app/, runtime/ or
// store/ imports api/.
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

async function importsOf(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) out.push([path.relative(root, file), match[1]!]);
  }
  return out;
}

test('api imports only app/index.js outside itself', async (t) => {
  for (const [file, spec] of await importsOf('api')) {
    if (!spec.startsWith('.')) continue;
    const target = path.relative(root, path.resolve(path.dirname(path.join(root, file)), spec));
    t.true(target.startsWith('api/') || target === 'app/index.js', `${file} imports ${spec}`);
  }
});

test('nothing below the front ends imports api', async (t) => {
  for (const dir of ['app', 'runtime', 'store']) {
    if (!existsSync(path.join(root, dir))) continue;
    for (const [file, spec] of await importsOf(dir)) t.false(/(^|\/)api\//.test(spec), `${file} imports ${spec}`);
  }
});
