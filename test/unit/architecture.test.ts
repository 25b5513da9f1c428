// The layering of ../shared/notes/architecture.md, held by reading the sources' imports:
// store never imports runtime, cli or images; runtime reaches the store only through its
// public entry; one module owns HTTP and one each outside tool; only cli prints or exits.
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

async function sources(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name));
    out.set(file, await readFile(path.join(root, file), 'utf8'));
  }
  return out;
}

function imports(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1]!);
}

test('store imports nothing from runtime, cli or images', async (t) => {
  for (const [file, text] of await sources('store')) {
    const bad = imports(text).filter((spec) => /(^|\/)\.\.\/(\.\.\/)?(runtime|cli|images)\//.test(spec));
    t.deepEqual(bad, [], file);
  }
});

test('runtime uses the store only through store/index.js and never imports cli', async (t) => {
  for (const [file, text] of await sources('runtime')) {
    const bad = imports(text).filter((spec) => (spec.includes('/store/') && !spec.endsWith('/store/index.js')) || spec.includes('/cli/'));
    t.deepEqual(bad, [], file);
  }
});

test('one module owns HTTP and one each of ostree, runc and systemctl', async (t) => {
  const all = new Map([...(await sources('store')), ...(await sources('runtime')), ...(await sources('cli'))]);
  const users = (pattern: RegExp) => [...all].filter(([, text]) => pattern.test(text)).map(([file]) => file).sort();
  t.deepEqual(users(/from 'node-fetch'/), ['store/registry/http.ts']);
  t.deepEqual(users(/execa\(\s*'ostree'|\['ostree'|'ostree',\s*\[/), ['store/ostree/ostree-repo.ts']);
  t.deepEqual(users(/class Runc\b/), ['runtime/runc.ts']);
  t.deepEqual(users(/'systemctl'/), ['runtime/systemd.ts']);
});

test('only cli writes to stdout or sets the exit code', async (t) => {
  for (const [file, text] of new Map([...(await sources('store')), ...(await sources('runtime'))])) {
    t.false(/process\.(stdout|exitCode)|process\.exit\(/.test(text), file);
  }
});

test('only the supervisors drive systemd units and runc containers; the choice between them is made in one place', async (t) => {
  const runtime = await sources('runtime');
  const supervising = /\bsystemd\.(start|stop|restart|enable|disable|daemonReload|resetFailed|unitState|statusText|journal|followJournal)\(|\brunc(?:Of\(ctx\))?\.(runDetached|kill)\(/;
  const users = [...runtime].filter(([, text]) => supervising.test(text)).map(([file]) => file).sort();
  t.deepEqual(users, ['runtime/supervisor/runc-supervisor.ts', 'runtime/supervisor/systemd-supervisor.ts']);
  const choosers = [...runtime].filter(([, text]) => /\.isRunning\(\)/.test(text)).map(([file]) => file);
  t.deepEqual(choosers, ['runtime/supervisor/choose.ts']);
  for (const [file, text] of runtime) t.false(/useSystemd|\.kind\s*[!=]==/.test(text), file);
});
