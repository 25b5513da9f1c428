// The bundle's deferred part and its V8 code cache (cli/deferred-code.ts). Cached data is code
// V8 runs: only a file this user wrote, in a directory nobody else can write, is used.
import test from 'ava';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { codeCacheDir, codeCacheName, makesCodeCache, readCodeCache, writeCodeCache } from '../../cli/deferred-code.js';

const uid = process.geteuid?.() ?? 0;

async function scratch(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'deferred-code-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the cache is written 0600 in a 0700 directory, and read back', async (t) => {
  const dir = path.join(await scratch(t), 'cache');
  const file = path.join(dir, codeCacheName('a'.repeat(64)));
  writeCodeCache(file, Buffer.from('cached'), uid);
  t.is((await lstat(dir)).mode & 0o777, 0o700);
  t.is((await lstat(file)).mode & 0o777, 0o600);
  t.is(readCodeCache(file, uid)?.toString(), 'cached');
  t.deepEqual(await readdir(dir), [path.basename(file)], 'no temporary file left');
});

test('a cache file another user owns, others may write, or reached through a symlink is not used', async (t) => {
  const dir = await scratch(t);
  await chmod(dir, 0o700);
  const file = path.join(dir, 'cli-x.v8-cache');
  await writeFile(file, 'cached', { mode: 0o600 });
  t.is(readCodeCache(file, uid)?.toString(), 'cached');
  t.is(readCodeCache(file, uid + 1), undefined, 'owned by someone else');
  await chmod(file, 0o620);
  t.is(readCodeCache(file, uid), undefined, 'group-writable');
  await chmod(file, 0o600);
  const link = path.join(dir, 'cli-link.v8-cache');
  await symlink(file, link);
  t.is(readCodeCache(link, uid), undefined, 'a symlink');
  await chmod(dir, 0o777);
  t.is(readCodeCache(file, uid), undefined, 'in a directory others may write');
  t.is(readCodeCache(path.join(dir, 'absent'), uid), undefined);
});

test('nothing is written into a directory others may write', async (t) => {
  const dir = await scratch(t);
  await chmod(dir, 0o777);
  writeCodeCache(path.join(dir, 'cli-x.v8-cache'), Buffer.from('cached'), uid);
  t.deepEqual(await readdir(dir), []);
});

test('writing a cache keeps the three newest of other builds and removes the rest', async (t) => {
  const dir = path.join(await scratch(t), 'cache');
  await mkdir(dir, { mode: 0o700 });
  for (let index = 0; index < 5; index++) {
    const old = path.join(dir, `cli-old${index}.v8-cache`);
    await writeFile(old, 'old', { mode: 0o600 });
    await utimes(old, 1000 + index, 1000 + index);
  }
  await writeFile(path.join(dir, 'unrelated'), 'kept');
  writeCodeCache(path.join(dir, 'cli-new.v8-cache'), Buffer.from('new'), uid);
  t.deepEqual((await readdir(dir)).sort(), ['cli-new.v8-cache', 'cli-old2.v8-cache', 'cli-old3.v8-cache', 'cli-old4.v8-cache', 'unrelated']);
});

test("the cache's name changes with the code and with V8's flags; root's lives in /var/cache", (t) => {
  const name = codeCacheName('a'.repeat(64), []);
  t.not(codeCacheName('b'.repeat(64), []), name);
  t.not(codeCacheName('a'.repeat(64), ['--max-semi-space-size=4']), name);
  t.is(codeCacheName('a'.repeat(64), []), name);
  t.regex(name, /^cli-a{24}-node[\d.]+-[-\w.]+-[0-9a-f]+\.v8-cache$/);
  t.is(codeCacheDir({}, 0), '/var/cache/syscontainer');
  t.is(codeCacheDir({ XDG_CACHE_HOME: '/home/u/.xdg' }, 1000), '/home/u/.xdg/syscontainer');
  t.true(codeCacheDir({ XDG_CACHE_HOME: 'relative' }, 1000).endsWith('/.cache/syscontainer'), 'a relative XDG_CACHE_HOME is ignored');
});

test('the short queries make the code cache; another command\'s cache has a name of its own', (t) => {
  for (const words of [['status', 'web'], ['containers'], ['containers', 'list'], ['images'], ['images', 'list'], ['healthcheck', 'run', 'web']]) t.true(makesCodeCache(words), words.join(' '));
  for (const words of [[], ['pull', 'x'], ['install', 'x'], ['images', 'prune'], ['containers', 'status'], ['healthcheck']]) t.false(makesCodeCache(words), words.join(' '));
  const other = codeCacheName('a'.repeat(64), [], true);
  t.not(other, codeCacheName('a'.repeat(64), []));
  t.regex(other, /^cli-a{24}-.*-other\.v8-cache$/);
});
