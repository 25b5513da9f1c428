// The layering of ../shared/notes/architecture.md, held by reading the sources' imports:
//   common/   imports nothing of ours
//   store/    common/ only
//   runtime/  store/index.js and common/
//   app/      runtime/index.js, store/index.js and common/
//   cli/, api/ app/index.js only (the application layer's entry); cli's `serve` also starts
//             the other front end, through api/index.js
// no import cycles anywhere; one module owns HTTP and one each outside tool; only the front
// ends print or exit.
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

/** The layers, bottom up, and what each may import besides its own folder. */
const layers: Record<string, readonly string[]> = {
  common: [],
  store: ['common/'],
  runtime: ['common/', 'store/index.ts'],
  app: ['common/', 'store/index.ts', 'runtime/index.ts'],
  cli: ['app/index.ts', 'api/index.ts'],
  api: ['app/index.ts'],
};

/** Every .ts file of the layers (repo-relative path → text). A layer not made yet has none. */
async function sources(dirs: readonly string[] = Object.keys(layers)): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of dirs) {
    if (!existsSync(path.join(root, dir))) continue;
    for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name));
      out.set(file, await readFile(path.join(root, file), 'utf8'));
    }
  }
  return out;
}

/** Module specifiers of static imports and re-exports (type-only ones too) and of import(). */
function specifiers(text: string): string[] {
  const statics = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1]!);
  const dynamics = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((match) => match[1]!);
  return [...statics, ...dynamics];
}

/** Our files that `file` imports, repo-relative with .ts; packages and node: left out. */
function localImports(file: string, text: string): string[] {
  return specifiers(text)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

test('each layer imports only what sits below it, through the entries', async (t) => {
  const violations: string[] = [];
  for (const [file, text] of await sources()) {
    const layer = file.split('/')[0]!;
    const allowed = [`${layer}/`, ...(layers[layer] ?? [])];
    for (const target of localImports(file, text)) {
      if (!allowed.some((prefix) => (prefix.endsWith('/') ? target.startsWith(prefix) : target === prefix))) violations.push(`${file} imports ${target}`);
    }
  }
  t.deepEqual(violations, []);
});

test('the front ends import nothing of ours but the application layer\'s entry', async (t) => {
  const files = await sources(['cli', 'api']);
  t.true(files.size > 0);
  for (const [file, text] of files) {
    const outside = localImports(file, text).filter((target) => !target.startsWith(`${file.split('/')[0]}/`));
    // `syscontainer serve` is the one command that starts the REST service.
    const allowed = file === 'cli/commands/serve.ts' ? ['app/index.ts', 'api/index.ts'] : ['app/index.ts'];
    t.true(outside.every((target) => allowed.includes(target)), `${file}: ${outside.join(', ')}`);
  }
});

/** Each import cycle of `graph` (file → files it imports), as "a → b → a". */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  // Depth-first; a file met again while it is still on the path closes a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...trail.slice(trail.indexOf(next)), file, next].join(' → '));
      else if (!state.has(next)) visit(next, [...trail, file]);
    }
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file, []);
  return cycles;
}

test('no import cycles', async (t) => {
  const files = await sources();
  const graph = new Map([...files].map(([file, text]) => [file, localImports(file, text).filter((target) => files.has(target))]));
  t.deepEqual(findCycles(graph), []);
});

test('the cycle check finds cycles through type-only and dynamic imports', (t) => {
  const graph = new Map([
    ['store/a.ts', localImports('store/a.ts', "import { b } from './b.js';")],
    ['store/b.ts', localImports('store/b.ts', "import type { C } from './c.js';")],
    ['store/c.ts', localImports('store/c.ts', "const a = () => import('./a.js');")],
    ['store/d.ts', localImports('store/d.ts', "export { a } from './a.js';")],
  ]);
  t.deepEqual(findCycles(graph), ['store/a.ts → store/b.ts → store/c.ts → store/a.ts']);
  graph.set('store/c.ts', []);
  t.deepEqual(findCycles(graph), []);
});

test('one module owns HTTP and one each of ostree, runc and systemctl', async (t) => {
  const all = await sources();
  const users = (pattern: RegExp) => [...all].filter(([, text]) => pattern.test(text)).map(([file]) => file).sort();
  t.deepEqual(users(/from 'node-fetch'/), ['store/registry/http.ts']);
  t.deepEqual(users(/execa\(\s*'ostree'|\['ostree'|'ostree',\s*\[/), ['store/ostree/ostree-repo.ts']);
  t.deepEqual(users(/class Runc\b/), ['runtime/runc.ts']);
  t.deepEqual(users(/'systemctl'/), ['runtime/systemd.ts']);
});

test('only the front ends write to stdout or set the exit code', async (t) => {
  for (const [file, text] of await sources(['common', 'store', 'runtime', 'app'])) {
    t.false(/process\.(stdout|exitCode)|process\.exit\(/.test(text), file);
  }
});

test('the CLI prints only through its Output', async (t) => {
  for (const [file, text] of await sources(['cli'])) {
    if (file === 'cli/output.ts' || file === 'cli/main.ts') continue;
    t.false(/process\.(stdout|stderr)\.write|console\.(log|error|warn|info)/.test(text), file);
  }
});

test('settings come from the environment where the context is built: cli/main.ts hands it to app', async (t) => {
  // store/ still reads its tuning knobs itself (being moved into the context's settings).
  const readers = [...(await sources(['app', 'cli', 'runtime']))].filter(([, text]) => /(?<![\w.])process\.env\b/.test(text)).map(([file]) => file);
  // serve reads LISTEN_PID, systemd's socket activation: a fact about this process, not a setting.
  // healthcheck-main is the second entry (the light one each health timer starts).
  t.deepEqual(readers.sort(), ['cli/commands/serve.ts', 'cli/healthcheck-main.ts', 'cli/main.ts']);
});

test('only the supervisors drive systemd units and runc containers; the choice between them is made in one place', async (t) => {
  // runtime/ and the layers above it: the application layer and the front ends neither.
  const all = await sources(['runtime', 'app', 'api', 'cli']);
  const supervising = /\bsystemd\.(start|stop|restart|enable|disable|daemonReload|resetFailed|unitState|statusText|journal|followJournal|outputEntries)\(|\brunc(?:Of\(ctx\))?\.(runCommand|kill)\(/;
  const users = [...all].filter(([, text]) => supervising.test(text)).map(([file]) => file).sort();
  // A one-off run (docker run --rm) is no supervisor's: runImageOnce runs runc in the foreground
  // with no unit under either, so its kill goes to runc whichever supervises installed containers.
  t.deepEqual(users, ['app/one-off-runs.ts', 'runtime/supervisor/runc-supervisor.ts', 'runtime/supervisor/systemd-supervisor.ts']);
  const choosers = [...all].filter(([, text]) => /\.isRunning\(\)/.test(text)).map(([file]) => file);
  t.deepEqual(choosers, ['runtime/supervisor/choose.ts']);
  for (const [file, text] of all) {
    // `.kind` is a supervisor's only in runtime/; above it apply's and the API's kinds are other things.
    t.false(/useSystemd/.test(text) || (file.startsWith('runtime/') && /\.kind\s*[!=]==/.test(text)), file);
  }
});
