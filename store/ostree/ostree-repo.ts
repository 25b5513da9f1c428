// The one module that runs the `ostree` binary (2022.7 here). Everything else talks to the
// repository through OstreeRepo. Failures become ESTORE carrying ostree's own error line.
//
// Facts about this ostree that shaped the calls below (checked by hand, see the tests):
// - `commit --tree=tar=-` needs `--tar-autocreate-parents` or a layer without parent
//   directory entries fails ("Can't commit an empty tree").
// - `commit` rejects FIFOs/devices ("Unsupported file type"): the tar filter drops them first.
// - `--no-bindings` keeps `ostree.ref-binding` out of orphan commits (refs are set later).
// - `fsck` checks the whole repository; it takes no commit argument.
// - `checkout --union` follows symlinks already present in the destination; store/content/checkout.ts
//   guards against that.
// - metadata goes on the command line: one argument is at most 128 KiB (MAX_ARG_STRLEN).
import { mkdir, readdir, readFile as readFs, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa, type ResultPromise } from 'execa';
import { SyscontainerError } from '../../common/errors.js';
import tar from 'tar-stream';
import { commitObjectMetadata, parseRawCommitMetadata } from './gvariant.js';

export type RepoMode = 'bare' | 'bare-user';

export interface CheckoutOptions {
  /** Keep existing directories, overwrite existing files (layering). */
  union?: boolean;
  /** Apply `.wh.NAME` and `.wh..wh..opq` entries instead of checking them out. */
  whiteouts?: boolean;
  /** Fail instead of copying when a hardlink into the repo is impossible. */
  requireHardlinks?: boolean;
  /** Do not restore ownership (non-root, or a bare-user repo). */
  userMode?: boolean;
}

export interface TreeEntry {
  /** Absolute path inside the commit, e.g. "/usr/bin/sh". */
  path: string;
  type: 'directory' | 'file' | 'symlink';
}

/** Longest metadata value we pass as one command-line argument (MAX_ARG_STRLEN is 128 KiB). */
export const maxMetadataArgBytes = 120 * 1024;
/** ostree's message when a concurrent transaction removed the staging directory it was using. */
const stagingRace = /opendir\(staging-[^)]*\): No such file or directory/;

/**
 * ostree's union-checkout race: `checkout --union` links a file that replaces an existing one
 * into REPO/tmp as `checkout-union-XXXXXX`, then renames it into the tree; an `ostree commit`
 * running meanwhile (a pull importing its next layers) cleans REPO/tmp of entries older than a
 * day, and the link has its object's mtime (0), so the rename finds it gone (seen on 2022.7 in
 * a pull of 100 layers).
 */
const unionCheckoutRace = /renameat\(checkout-union-[^,]*, [^)]*\): No such file or directory/;
/** Whether `error` is ostree's staging-directory race (see `text`): the same work may be done again. */
export function isStagingRace(error: unknown): boolean {
  return error instanceof SyscontainerError && error.code === 'ESTORE' && stagingRace.test(error.message);
}
const defaultReadLimit = 16 * 1024 * 1024;

const checksumPattern = /^[a-f0-9]{64}$/;
/** A local ref name as OSTree allows it (components of [-._\w], none starting with . or -). */
const plainRefPattern = /^[\w][-._\w]*(?:\/[\w][-._\w]*)*$/;

function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !/^fsck objects \(/.test(line));
  const errorLine = lines.find((line) => line.startsWith('error:'));
  return (errorLine ?? lines[lines.length - 1] ?? 'failed without a message').replace(/^error:\s*/, '');
}

export class OstreeRepo {
  readonly path: string;
  /** commitMetadata results by commit checksum (immutable content). */
  private readonly metadataCache = new Map<string, Promise<Record<string, string>>>();

  constructor(path: string) {
    this.path = path;
  }

  private run(args: string[], options: { maxBuffer?: number; encoding?: 'buffer' } = {}) {
    return execa('ostree', [...args, `--repo=${this.path}`], {
      reject: false,
      stdin: 'ignore',
      maxBuffer: options.maxBuffer ?? defaultReadLimit,
      encoding: options.encoding ?? 'utf8',
      // execa drops a final newline from buffers too: a file (a config, a manifest) that ends
      // in one would come back a byte short, under another digest.
      stripFinalNewline: options.encoding !== 'buffer',
    } as const);
  }

  private failure(what: string, stderr: string, cause?: unknown): SyscontainerError {
    return new SyscontainerError('ESTORE', `ostree repo ${this.path}: ${what}: ${lastErrorLine(stderr)}`, { cause });
  }

  /**
   * Runs a command that takes no input. Retried (twice) on ostree's staging-directory race:
   * with several ostree processes committing at once, one may lose the `tmp/staging-*`
   * directory it just locked to another's cleanup ("opendir(staging-…): No such file or
   * directory", seen on 2022.7). These commands are idempotent, so running one again is safe.
   * So is a union checkout of one layer, run again over the tree it half wrote: retried (four
   * times) when it lost its temporary link to a commit's cleanup (unionCheckoutRace).
   */
  private async text(args: string[], what: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.run(args);
      if (result.exitCode === 0 && !result.failed) return String(result.stdout);
      const stderr = String(result.stderr ?? result.message);
      if (attempt < 3 && stagingRace.test(stderr)) continue;
      if (attempt < 5 && unionCheckoutRace.test(stderr)) continue;
      throw this.failure(what, stderr, result);
    }
  }

  /** The repository mode from its config, or undefined when there is no repository yet. */
  async mode(): Promise<RepoMode | string | undefined> {
    let config: string;
    try {
      config = await readFs(join(this.path, 'config'), 'utf8');
    } catch {
      return undefined;
    }
    return /^\s*mode\s*=\s*(\S+)/m.exec(config)?.[1] ?? 'bare';
  }

  /**
   * Creates the repository with `mode` unless one exists. Idempotent; an existing repository
   * keeps its mode (returned), so a repo written by atomic/skopeo is used as it is.
   */
  async ensure(mode: RepoMode): Promise<string> {
    const existing = await this.mode();
    if (existing !== undefined) return existing;
    await mkdir(this.path, { recursive: true, mode: 0o700 });
    await this.text(['init', `--mode=${mode}`], 'init');
    return mode;
  }

  private metadataArgs(metadata: Record<string, string>): string[] {
    return Object.entries(metadata).map(([key, value]) => {
      const arg = `--add-metadata-string=${key}=${value}`;
      if (Buffer.byteLength(arg) > maxMetadataArgBytes) {
        throw new SyscontainerError('ELIMIT', `ostree commit: metadata ${key} is ${Buffer.byteLength(value)} bytes; at most ${maxMetadataArgBytes} fit on the ostree command line`);
      }
      if (key.includes('=') || value.includes('\0')) throw new SyscontainerError('EINVAL', `ostree commit: bad metadata key or value for ${key}`);
      return arg;
    });
  }

  /**
   * Commits a tar stream as an orphan commit (no ref, unless `ref` is given: see commitTreeOf) and returns its checksum. Consumes
   * `tarStream`; when it errors, ostree is killed (no commit is made from a truncated tar) and
   * that error is thrown. An orphan commit that nobody refs is removed by prune().
   */
  async commitTar(tarStream: Readable, opts: { metadata: Record<string, string>; ref?: string }): Promise<string> {
    const args = [
      'commit',
      `--repo=${this.path}`,
      ...this.commitTarget(opts.ref),
      '--no-bindings',
      '--tree=tar=-',
      '--tar-autocreate-parents',
      ...this.metadataArgs(opts.metadata),
    ];
    const proc: ResultPromise<{ reject: false; stdin: 'pipe' }> = execa('ostree', args, { reject: false, stdin: 'pipe' });
    let inputError: unknown;
    const feeding = pipeline(tarStream, proc.stdin!).catch((error: unknown) => {
      inputError = error;
      // EPIPE means ostree stopped reading: its own exit status tells why.
      if ((error as NodeJS.ErrnoException)?.code !== 'EPIPE') proc.kill('SIGKILL');
    });
    const result = await proc;
    await feeding;
    if (inputError !== undefined && (inputError as NodeJS.ErrnoException)?.code !== 'EPIPE') {
      throw inputError;
    }
    if (result.exitCode !== 0 || result.failed) throw this.failure('commit', String(result.stderr ?? result.message), result);
    const checksum = String(result.stdout).trim();
    if (!checksumPattern.test(checksum)) throw this.failure('commit', `unexpected output ${JSON.stringify(checksum.slice(0, 80))}`);
    return checksum;
  }

  /**
   * Commits a small tree given as path → content (all files mode 0644, owned by root, parent
   * directories created 0755). Returns the checksum of the orphan commit (or of the commit
   * `ref` now points to).
   */
  async commitFiles(files: Record<string, Buffer>, metadata: Record<string, string>, options: { ref?: string } = {}): Promise<string> {
    const pack = tar.pack();
    for (const [name, content] of Object.entries(files)) {
      pack.entry({ name: name.replace(/^\/+/, ''), type: 'file', mode: 0o100644, uid: 0, gid: 0, mtime: new Date(0) }, content);
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return this.commitTar(Readable.from([Buffer.concat(chunks)]), { metadata, ...options });
  }

  /**
   * A new commit with the tree of `base` and the given metadata. Cheap (no content is
   * rewritten): used to attach metadata known only after a tar has been read to its end.
   * An orphan unless `ref` is given: then the same ostree process points `ref` at it (as
   * setRef would, in the commit's own transaction, so the ref never names a commit that is not
   * written), with no parent even when `ref` existed before.
   */
  async commitTreeOf(base: string, metadata: Record<string, string>, options: { ref?: string } = {}): Promise<string> {
    const out = await this.text(['commit', ...this.commitTarget(options.ref), '--no-bindings', `--tree=ref=${base}`, ...this.metadataArgs(metadata)], `commit from ${base}`);
    const checksum = out.trim();
    if (!checksumPattern.test(checksum)) throw this.failure('commit', `unexpected output ${JSON.stringify(checksum.slice(0, 80))}`);
    return checksum;
  }

  /** `commit` arguments for an orphan commit, or for one `ref` points to (no parent even when `ref` existed). */
  private commitTarget(ref: string | undefined): string[] {
    return ref === undefined ? ['--orphan'] : [`--branch=${ref}`, '--parent=none'];
  }

  /** Points `ref` at `checksum`, creating or moving it. Atomic (ostree writes the ref file by rename). */
  async setRef(ref: string, checksum: string): Promise<void> {
    await this.text(['refs', '--force', `--create=${ref}`, checksum], `set ref ${ref}`);
  }

  /** Deletes `ref`; a missing ref is not an error. Only this exact ref (ostree does not match ociimage/abc against ociimage/abcd). */
  async deleteRef(ref: string): Promise<void> {
    if ((await this.resolveRef(ref)) === undefined) return;
    await this.text(['refs', '--delete', ref], `delete ref ${ref}`);
  }

  /**
   * The commit a ref points to, or undefined when the ref does not exist. A local ref is a
   * plain file REPO/refs/heads/REF holding the checksum (OSTree's documented repository
   * layout): read directly, which costs no process; so is a missing one when the repository has
   * no remotes' refs and no parent. Anything else (a remote ref, a checksum, a name that is not
   * a plain ref, an unexpected file) goes to `ostree rev-parse`.
   */
  async resolveRef(ref: string): Promise<string | undefined> {
    if (plainRefPattern.test(ref) && !checksumPattern.test(ref)) {
      try {
        const content = (await readFs(join(this.path, 'refs', 'heads', ref), 'latin1')).trim();
        if (checksumPattern.test(content)) return content;
      } catch (error) {
        // Missing: ostree would look no further than remotes' refs and a parent repository;
        // with neither, the ref does not exist (a cold pull asks this twice per layer).
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !(await this.hasRemoteRefsOrParent())) return undefined;
        // otherwise rev-parse decides (and reports real errors)
      }
    }
    return this.revParse(ref);
  }

  /**
   * Whether a missing local ref could still resolve: `ostree rev-parse REF` falls back to
   * refs/remotes/<any remote>/REF, then to the `parent` repository of the config (ostree's
   * resolve_refspec). Read anew each time: another ostree may add a remote.
   */
  private async hasRemoteRefsOrParent(): Promise<boolean> {
    const remotes = await readdir(join(this.path, 'refs', 'remotes')).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : undefined));
    if (remotes === undefined || remotes.length > 0) return true;
    const config = await readFs(join(this.path, 'config'), 'utf8').catch(() => undefined);
    return config === undefined || /^\s*parent\s*=/m.test(config);
  }

  private async revParse(ref: string): Promise<string | undefined> {
    const result = await this.run(['rev-parse', ref]);
    if (result.exitCode === 0) return String(result.stdout).trim();
    if (/not found|No such/i.test(String(result.stderr))) return undefined;
    throw this.failure(`rev-parse ${ref}`, String(result.stderr), result);
  }

  /** Full names of the refs under `prefix` (e.g. "ociimage"), sorted. */
  async listRefs(prefix: string): Promise<string[]> {
    const out = await this.text(['refs', '--list', prefix.replace(/\/+$/, '')], `list refs ${prefix}`);
    return out
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .sort();
  }

  /**
   * The string-valued metadata of a commit (other value types are left out); a new object
   * each call. A commit named by its checksum never changes, so the result is kept for the
   * life of this OstreeRepo: reading one image several times runs `ostree show` once per commit.
   */
  async commitMetadata(checksum: string): Promise<Record<string, string>> {
    const key = checksumPattern.test(checksum) ? checksum : undefined;
    let pending = key === undefined ? undefined : this.metadataCache.get(key);
    if (pending === undefined) {
      pending = this.readCommitMetadata(checksum);
      if (key !== undefined) {
        this.metadataCache.set(key, pending);
        pending.catch(() => this.metadataCache.delete(key));
      }
    }
    return { ...(await pending) };
  }

  /**
   * A commit's metadata read from its object file OBJECTS/XX/REST.commit (the documented
   * layout; a GVariant of type (a{sv}aya(say)sstayay)) without a process; anything missing
   * or not in the expected form is left to `ostree show --raw`.
   */
  private async readCommitMetadata(checksum: string): Promise<Record<string, string>> {
    if (checksumPattern.test(checksum)) {
      const file = join(this.path, 'objects', checksum.slice(0, 2), `${checksum.slice(2)}.commit`);
      const bytes = await readFs(file).catch(() => undefined);
      const parsed = bytes === undefined || bytes.length > defaultReadLimit ? undefined : commitObjectMetadata(bytes);
      // An empty dictionary goes to ostree too: parseRawCommitMetadata rejects "@a{sv} {}" (ESTORE), and that stays so.
      if (parsed !== undefined && Object.keys(parsed).length > 0) return parsed;
    }
    return parseRawCommitMetadata(await this.text(['show', '--raw', checksum], `show ${checksum}`));
  }

  /** One string metadata value, or undefined when the commit has no such key (or its value is not a string). */
  async metadataString(checksum: string, key: string): Promise<string | undefined> {
    const metadata = await this.commitMetadata(checksum);
    return Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  }

  /** A file's content from a commit; ENOTFOUND when absent, ELIMIT above `maxBytes`. */
  async readFile(checksum: string, path: string, maxBytes = defaultReadLimit): Promise<Buffer> {
    const result = await this.run(['cat', checksum, path], { maxBuffer: maxBytes, encoding: 'buffer' });
    if (result.isMaxBuffer) throw new SyscontainerError('ELIMIT', `ostree commit ${checksum}: ${path} is larger than ${maxBytes} bytes`);
    if (result.exitCode !== 0) {
      const stderr = Buffer.from(result.stderr as Uint8Array).toString('utf8');
      if (/No such file|not found/i.test(stderr)) throw new SyscontainerError('ENOTFOUND', `ostree commit ${checksum}: no ${path}`);
      throw this.failure(`cat ${path}`, stderr, result);
    }
    return Buffer.from(result.stdout as Uint8Array);
  }

  /** Names in directory `path` of a commit (not recursive); undefined when there is no such directory. */
  async listDir(checksum: string, path: string): Promise<string[] | undefined> {
    const result = await this.run(['ls', '--nul-filenames-only', checksum, path]);
    if (result.exitCode !== 0) {
      if (/No such file|not found/i.test(String(result.stderr))) return undefined;
      throw this.failure(`ls ${path}`, String(result.stderr), result);
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    return String(result.stdout)
      .split('\0')
      .filter((entry) => entry.startsWith(prefix))
      .map((entry) => entry.slice(prefix.length))
      .filter((name) => name.length > 0 && !name.includes('/'));
  }

  /**
   * Every path of a commit (recursively, without the root) from one `ls -R
   * --nul-filenames-only`, as latin1 strings (one char per byte, so any file name round-trips
   * exactly; compare with names read the same way, e.g. readdir with encoding 'latin1').
   */
  async listPaths(checksum: string): Promise<string[]> {
    const result = await this.run(['ls', '-R', '--nul-filenames-only', checksum], { maxBuffer: 1024 * 1024 * 1024, encoding: 'buffer' });
    if (result.exitCode !== 0 || result.failed) {
      throw this.failure(`ls ${checksum}`, Buffer.from((result.stderr as Uint8Array | undefined) ?? []).toString('utf8') || String(result.message ?? ''), result);
    }
    return Buffer.from(result.stdout as Uint8Array)
      .toString('latin1')
      .split('\0')
      .filter((path) => path.length > 0 && path !== '/');
  }

  /**
   * The type of each of `paths` (latin1 strings as listPaths returns them) in a commit; every
   * path must exist there (ESTORE otherwise). One `ls -d` per batch of paths.
   */
  async entryTypes(checksum: string, paths: readonly string[]): Promise<Map<string, TreeEntry['type']>> {
    const types = new Map<string, TreeEntry['type']>();
    const kindOf = (char: string | undefined): TreeEntry['type'] => (char === 'd' ? 'directory' : char === 'l' ? 'symlink' : 'file');
    const ask = async (batch: string[]): Promise<string[]> => {
      const result = await this.run(['ls', '-d', checksum, ...batch.map((path) => Buffer.from(path, 'latin1').toString('utf8'))], { encoding: 'buffer' });
      const stdout = Buffer.from(result.stdout as Uint8Array).toString('latin1');
      if (result.exitCode !== 0 || result.failed) {
        throw this.failure(`ls ${checksum}`, Buffer.from((result.stderr as Uint8Array | undefined) ?? []).toString('utf8') || String(result.message ?? ''), result);
      }
      return stdout.split('\n');
    };
    // One line per path, in order, unless a name or symlink target holds a newline: then the
    // paths of that batch are asked one by one (the output's first character is the type).
    const one = async (path: string): Promise<void> => {
      types.set(path, kindOf((await ask([path])).join('\n')[0]));
    };
    const plain = paths.filter((path) => !path.includes('\n'));
    for (let start = 0; start < plain.length; start += 256) {
      const batch = plain.slice(start, start + 256);
      const lines = (await ask(batch)).filter((line) => line.length > 0);
      if (lines.length === batch.length && lines.every((line) => /^[-dl]/.test(line))) {
        batch.forEach((path, index) => types.set(path, kindOf(lines[index]![0])));
      } else {
        for (const path of batch) await one(path);
      }
    }
    for (const path of paths.filter((path) => path.includes('\n'))) await one(path);
    return types;
  }

  /**
   * What changes from commit `from` to commit `to` (`ostree diff`): each path (latin1, as
   * listPaths gives them) added, modified (content, type or, for a directory, its metadata) or
   * deleted; a directory added or deleted is listed with everything under it.
   */
  async diff(from: string, to: string): Promise<Array<{ change: 'A' | 'M' | 'D'; path: string }>> {
    const result = await this.run(['diff', from, to], { maxBuffer: 1024 * 1024 * 1024, encoding: 'buffer' });
    if (result.exitCode !== 0 || result.failed) {
      throw this.failure(`diff ${from} ${to}`, Buffer.from((result.stderr as Uint8Array | undefined) ?? []).toString('utf8') || String(result.message ?? ''), result);
    }
    const lines = Buffer.from(result.stdout as Uint8Array).toString('latin1').split('\n').filter((line) => line.length > 0);
    return lines.map((line) => {
      const match = /^([AMD]) {4}(\/.*)$/.exec(line);
      // A name holding a newline splits its line: not parsed, rather than misread.
      if (match === null) throw this.failure(`diff ${from} ${to}`, `unexpected output line ${JSON.stringify(line.slice(0, 80))}`);
      return { change: match[1] as 'A' | 'M' | 'D', path: match[2]! };
    });
  }

  /** Every entry of a commit (recursively), without the root. */
  async listTree(checksum: string): Promise<TreeEntry[]> {
    const [typed, names] = await Promise.all([
      this.run(['ls', '-R', checksum], { maxBuffer: 1024 * 1024 * 1024 }),
      this.run(['ls', '-R', '--nul-filenames-only', checksum], { maxBuffer: 1024 * 1024 * 1024 }),
    ]);
    for (const result of [typed, names]) {
      if (result.exitCode !== 0) throw this.failure(`ls ${checksum}`, String(result.stderr), result);
    }
    const kinds = String(typed.stdout)
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => line[0]);
    const paths = String(names.stdout).split('\0');
    if (paths[paths.length - 1] === '') paths.pop();
    if (kinds.length !== paths.length) {
      throw new SyscontainerError('ESTORE', `ostree commit ${checksum}: cannot list its tree (a file name contains a newline)`);
    }
    const entries: TreeEntry[] = [];
    paths.forEach((path, index) => {
      if (path === '/') return;
      const kind = kinds[index];
      entries.push({ path, type: kind === 'd' ? 'directory' : kind === 'l' ? 'symlink' : 'file' });
    });
    return entries;
  }

  /**
   * The tree of a commit as a tar stream (`ostree export`), for regenerating a layer blob.
   * As checked on 2022.7: ownership, permission bits (setuid/setgid/sticky too), symlinks,
   * xattrs and `.wh.*` files come out as committed; every mtime is the commit's timestamp; a
   * `./` root entry comes first; hardlinked files come out as separate regular files (a commit
   * does not record links; checkouts hardlink identical content anyway). Same commit, same
   * bytes. The caller consumes or destroys the stream; destroying it kills ostree. When ostree
   * fails, the stream emits ESTORE instead of ending, so a truncated tar never looks complete.
   */
  exportTar(checksum: string): Readable {
    if (!checksumPattern.test(checksum)) throw new SyscontainerError('EINVAL', `ostree export: ${JSON.stringify(checksum.slice(0, 80))} is not a commit checksum`);
    const proc = execa('ostree', ['export', `--repo=${this.path}`, checksum], {
      reject: false,
      stdin: 'ignore',
      buffer: { stdout: false, stderr: true },
      encoding: 'utf8',
    });
    const out = new PassThrough();
    let finished = false;
    proc.stdout.on('error', (error) => out.destroy(error));
    proc.stdout.pipe(out, { end: false });
    // A reader that gives up (destroy) must not leave ostree blocked on a full pipe.
    out.on('close', () => {
      if (!finished) proc.kill('SIGKILL');
    });
    void proc.then((result) => {
      finished = true;
      if (result.exitCode !== 0 || result.failed) {
        out.destroy(this.failure(`export ${checksum}`, String(result.stderr ?? result.message), result));
        return;
      }
      // stdout may still hold data that the pipe has not delivered: end only after it.
      if (proc.stdout.readableEnded) out.end();
      else proc.stdout.once('end', () => out.end());
    });
    return out;
  }

  /** The object checksum of a file in a commit (for tests and verification). */
  async fileObjectChecksum(checksum: string, path: string): Promise<string> {
    const out = await this.text(['ls', '-C', checksum, path], `ls ${path}`);
    const field = out.trim().split(/\s+/)[4];
    if (!field || !checksumPattern.test(field)) throw this.failure(`ls ${path}`, `unexpected output ${out.slice(0, 80)}`);
    return field;
  }

  /** Path of a content object in a bare/bare-user repository. */
  objectPath(objectChecksum: string): string {
    return join(this.path, 'objects', objectChecksum.slice(0, 2), `${objectChecksum.slice(2)}.file`);
  }

  /**
   * Checks `checksum` out into `dest` (created when missing; with `union` an existing tree is
   * layered onto). Not atomic: store/content/checkout.ts builds into a temporary directory.
   */
  async checkout(checksum: string, dest: string, opts: CheckoutOptions = {}): Promise<void> {
    const args = ['checkout'];
    if (opts.union) args.push('--union');
    if (opts.whiteouts) args.push('--whiteouts');
    if (opts.requireHardlinks) args.push('--require-hardlinks');
    if (opts.userMode) args.push('--user-mode');
    args.push(checksum, dest);
    await this.text(args, `checkout ${checksum}`);
  }

  /** `ostree fsck` of the whole repository; resolves when clean, else ESTORE with the first fault. */
  async fsck(): Promise<void> {
    await this.text(['fsck', '--quiet'], 'fsck');
  }

  /** Deletes objects no ref reaches (`prune --refs-only`), including unreferenced orphan commits. */
  async prune(): Promise<void> {
    await this.text(['prune', '--refs-only'], 'prune');
  }

  /** Whether the repository exists (a config file is there). */
  async exists(): Promise<boolean> {
    try {
      await stat(join(this.path, 'config'));
      return true;
    } catch {
      return false;
    }
  }
}
