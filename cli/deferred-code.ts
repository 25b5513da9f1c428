// The bundle's deferred part: what the CLI runs after `--version` (cli/run-command.ts and all
// below it, ~1.9 MB), stored in the same file as the entry but inside a comment, so V8 does not
// parse it at start-up (it pre-parses every function of a module it loads: ~100 ms here for the
// whole CLI, which `--version` and `--help` would pay for nothing). scripts/bundle.mjs builds
// it as one function `(require, module, exports, syscontainerBundleUrl) => …` (CommonJS
// inside) and appends it after `deferredMarker`; this module cuts it out of the bundle file and
// compiles it with vm.Script when a command needs it.
// V8's code cache: Node 20 caches nothing of a user's module between runs, but vm.Script takes
// and makes V8 cached data. The first command writes it (after it ran, so the functions it
// compiled are in it), later ones start from it instead of parsing the code again. The cache
// is an optimisation only: anything wrong with it (absent, another Node or V8 flags, rejected
// by V8, not ours) means the code is compiled as without it.
// Only a file we wrote is used: cached data is code, so the file and its directory must belong
// to this user and be writable by no one else, and it is opened without following a symlink.
// Its name carries a digest of the deferred code (V8 checks only the source's length), Node's
// version and this process' V8 flags.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** Starts the comment that holds the deferred code (built from parts so this module's own text does not contain it). */
export const deferredMarker = ['\n/*', 'SYSCONTAINER', 'DEFERRED', 'CODE\n'].join('-').replace('/*-', '/*');
/** `*` `/` inside the deferred code is written as these three characters (the code has no U+0001). */
export const escapedCommentEnd = '*\u0001/';

/** Where this user's cached data goes: /var/cache/syscontainer for root, else the XDG cache. */
export function codeCacheDir(env: NodeJS.ProcessEnv, uid: number): string {
  if (uid === 0) return '/var/cache/syscontainer';
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'syscontainer');
}

/**
 * Whether the command argv's leading words name makes the code cache. A cache holds every
 * function the command that wrote it compiled, and every later command reads all of it: the
 * 690 KB that status leaves cost each status ~9 ms, the 1.2 MB of a pull ~10 ms more. So the
 * short commands that run often (and the health timer's) make the cache later commands start
 * from; another command's cache stands in only until one of them runs.
 */
export function makesCodeCache(words: readonly string[]): boolean {
  const [first, second] = words;
  return first === 'status' || (first === 'containers' && (second === undefined || second === 'list')) || (first === 'images' && (second === undefined || second === 'list')) || (first === 'healthcheck' && second === 'run');
}

/** The cache file's name for this deferred code, this Node and these V8 flags; `other`: a cache another command wrote (makesCodeCache). */
export function codeCacheName(codeDigest: string, execArgv: readonly string[] = process.execArgv, other = false): string {
  // FNV-1a: node:crypto would cost its ~20 ms of loading to every command.
  let flags = 0x811c9dc5;
  for (const char of execArgv.join('\0')) flags = Math.imul(flags ^ (char.codePointAt(0) as number), 0x01000193) >>> 0;
  return `cli-${codeDigest.slice(0, 24)}-node${process.versions.v8}-${process.arch}-${flags.toString(16)}${other ? '-other' : ''}.v8-cache`;
}

/** Owned by `uid`, writable by nobody else. */
function trusted(stats: { uid: number; mode: number }, uid: number): boolean {
  return stats.uid === uid && (stats.mode & 0o022) === 0;
}

/** The cached data in `file`, if this user wrote it and nobody else could have. */
export function readCodeCache(file: string, uid: number): Buffer | undefined {
  try {
    const dir = lstatSync(dirname(file));
    if (!dir.isDirectory() || !trusted(dir, uid)) return undefined;
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stats = fstatSync(fd);
      return stats.isFile() && trusted(stats, uid) ? readFileSync(fd) : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Writes `data` to `file` through a temporary name (0600, in a 0700 directory). Best effort: a failure leaves no cache. */
export function writeCodeCache(file: string, data: Buffer, uid: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (!trusted(lstatSync(dirname(file)), uid)) return;
    writeFileSync(temporary, data, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
    pruneCodeCaches(dirname(file), basename(file));
  } catch {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing was written
    }
  }
}

/** Caches another build (or Node, or flags) wrote: the newest few stay (several installs may share the directory), older ones go. */
function pruneCodeCaches(dir: string, kept: string, others = 3): void {
  const caches = readdirSync(dir)
    .filter((name) => name !== kept && /^cli-.*\.v8-cache$/.test(name))
    .map((name) => ({ name, time: lstatSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const { name } of caches.slice(others)) unlinkSync(join(dir, name));
}

export interface DeferredCode<T> {
  exports: T;
  /** Writes the code cache if none was used; call when the command is done. */
  saveCache(): void;
}

/**
 * Compiles and runs the deferred code appended to `bundleUrl`'s file. `codeDigest` is the
 * sha256 of that code as the bundler wrote it (before unescaping). `command` is argv's leading
 * words: whether this command makes the cache, or only uses one (makesCodeCache).
 */
export function loadDeferredCode<T>(bundleUrl: string, codeDigest: string, env: NodeJS.ProcessEnv, command: readonly string[] = []): DeferredCode<T> {
  const bundleFile = fileURLToPath(bundleUrl);
  const text = readFileSync(bundleFile, 'latin1');
  const start = text.indexOf(deferredMarker);
  const end = text.indexOf('*/', start + deferredMarker.length);
  if (start < 0 || end < 0) throw new Error(`${bundleFile}: the deferred code is missing; rebuild (npm run build)`);
  const source = text.slice(start + deferredMarker.length, end).replaceAll(escapedCommentEnd, '*/');
  const uid = process.geteuid?.() ?? -1;
  const dir = uid >= 0 ? codeCacheDir(env, uid) : undefined;
  const makesCache = makesCodeCache(command);
  const cacheFile = dir === undefined ? undefined : join(dir, codeCacheName(codeDigest, process.execArgv, !makesCache));
  const ownCache = cacheFile === undefined ? undefined : readCodeCache(cacheFile, uid);
  // Another command uses the queries' cache when there is one. A query does not start from
  // another command's: the cache it writes would hold that command's functions too.
  const cachedData = ownCache ?? (makesCache || dir === undefined ? undefined : readCodeCache(join(dir, codeCacheName(codeDigest)), uid));
  // The line offset makes stack traces name the bundle's own lines.
  const lineOffset = text.slice(0, start + deferredMarker.length).split('\n').length - 1;
  const script = new Script(source, { filename: bundleFile, lineOffset, ...(cachedData !== undefined ? { cachedData } : {}) });
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (require: NodeJS.Require, module: { exports: T }, exports: T, syscontainerBundleUrl: string) => void;
  run(createRequire(bundleUrl), module, module.exports, bundleUrl);
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  return {
    exports: module.exports,
    saveCache: () => {
      if (cacheUsed || cacheFile === undefined) return;
      writeCodeCache(cacheFile, script.createCachedData(), uid);
      // The queries' cache replaces the one another command wrote.
      if (makesCache && dir !== undefined) rmSync(join(dir, codeCacheName(codeDigest, process.execArgv, true)), { force: true });
    },
  };
}
