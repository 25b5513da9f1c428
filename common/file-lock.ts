// Locks between syscontainer processes (and between concurrent calls in one process).
//
// Design. Node has no flock(2), so a lock is a directory (ROOT/.storage/locks/store, …/image-HASH,
// ROOT/.NAME.lock) holding holder records, each a small JSON file {pid, start, boot, nonce, command}:
//   exclusive          the one exclusive holder; created with link(2), which fails if it exists
//   shared-<nonce>     one per shared holder; unique names, so creating them never conflicts
// A record is written to a temporary file first and then linked/renamed into place, so a
// record is never seen half-written. A holder is alive while a process with that pid exists,
// has the same start time (field 22 of /proc/PID/stat; defeats pid reuse), is not a zombie,
// and the boot id is unchanged (locks live on disk across reboots). A record whose holder is
// dead is stale and removed by whoever finds it: kill -9 never leaves a lock held.
//   exclusive: take `exclusive`, then wait until every live shared holder has gone.
//   shared:    write own `shared-<nonce>`, then look at `exclusive`; if a live one is there,
//              withdraw the record, wait and try again.
// Each side writes its own record before reading the other's, so the two can never both go
// ahead; a waiting exclusive holder blocks new shared holders (no writer starvation).
// Breaking a stale `exclusive` renames it to a unique name and checks that the renamed record
// is the dead one it inspected (it puts it back if another process took the lock in between).
// Reentrancy: a call made within the async flow of a `withLock` body that holds the same lock
// (e.g. `install --force` calling uninstall) goes straight through; parallel calls in one
// process contend like separate processes do.
// A waiter polls with a growing interval, reports "waiting for …" once through `onWait`, and
// fails with ELOCKED (naming the holder) after `waitMs` (default 5 min; the caller passes
// what the user configured, e.g. SYSCONTAINER_LOCK_WAIT_MS read where the context is built).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscontainerError } from './errors.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  mode: LockMode;
  /** What is locked, for messages: "image store", "container web", "image x:latest". */
  what: string;
  /** How long to wait for another holder before ELOCKED (default defaultLockWaitMs, 5 min). */
  waitMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (message: string) => void;
}

interface HolderRecord {
  pid: number;
  start: string;
  boot: string;
  nonce: string;
  command: string;
}

export const defaultLockWaitMs = 300_000;


let bootId: string | undefined;
function currentBoot(): string {
  bootId ??= (() => {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      return 'unknown';
    }
  })();
  return bootId;
}

/** Start time (clock ticks since boot) and whether the process is a zombie; undefined when gone. */
function processStart(pid: number): { start: string; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); start time is field 22.
    return { start: fields[19] ?? '', zombie: fields[0] === 'Z' || fields[0] === 'X' };
  } catch {
    return undefined;
  }
}

/** This process' start time, read when it first takes a lock (not when this module loads: every command loads it). */
let ownStart: string | undefined;

function isAlive(record: HolderRecord): boolean {
  if (record.boot !== currentBoot()) return false;
  const proc = processStart(record.pid);
  return proc !== undefined && !proc.zombie && proc.start === record.start;
}

async function readRecord(file: string): Promise<HolderRecord | undefined | 'gone'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as HolderRecord;
    if (typeof parsed.pid === 'number' && typeof parsed.nonce === 'string') return parsed;
  } catch {
    // not ours / corrupt: treated as stale below
  }
  return undefined;
}

function describe(record: HolderRecord | undefined): string {
  return record === undefined ? 'an unknown process' : `pid ${record.pid}${record.command ? ` (${record.command})` : ''}`;
}

/** A held lock. `release` is idempotent. */
export interface HeldLock {
  readonly dir: string;
  readonly mode: LockMode;
  release(): Promise<void>;
}

const held = new AsyncLocalStorage<Map<string, LockMode>>();

async function writeRecordFile(dir: string, record: HolderRecord): Promise<string> {
  const temp = path.join(dir, `.tmp-${record.nonce}`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o644 });
  return temp;
}

function newRecord(): HolderRecord {
  return {
    pid: process.pid,
    start: (ownStart ??= processStart(process.pid)?.start ?? ''),
    boot: currentBoot(),
    nonce: `${process.pid}-${randomBytes(8).toString('hex')}`,
    command: process.argv.slice(2, 5).join(' ').slice(0, 80),
  };
}

/** Removes `dir/exclusive` if it still is the dead holder's record `dead`. */
async function breakStaleExclusive(dir: string, dead: HolderRecord | undefined): Promise<void> {
  const file = path.join(dir, 'exclusive');
  const aside = path.join(dir, `.stale-${process.pid}-${randomBytes(8).toString('hex')}`);
  try {
    await rename(file, aside);
  } catch {
    return; // someone else broke it already
  }
  const moved = await readRecord(aside);
  const same = moved !== 'gone' && (dead === undefined ? moved === undefined : moved?.nonce === dead.nonce);
  if (!same) {
    // We moved a live holder's record (it was taken in between): put it back.
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/** Shared holders other than `except`, with stale records removed. */
async function liveSharedHolders(dir: string, except?: string): Promise<HolderRecord[]> {
  const live: HolderRecord[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    // Temporary record files of writers killed before they linked them (name: .tmp-PID-…).
    const tempOf = /^\.(?:tmp|stale)-(\d+)-/.exec(entry);
    if (tempOf && processStart(Number(tempOf[1])) === undefined) await unlink(path.join(dir, entry)).catch(() => undefined);
    if (!entry.startsWith('shared-') || entry === except) continue;
    const file = path.join(dir, entry);
    const record = await readRecord(file);
    if (record === 'gone') continue;
    if (record !== undefined && isAlive(record)) live.push(record);
    else await unlink(file).catch(() => undefined);
  }
  return live;
}

class Waiter {
  private readonly deadline: number;
  private delay = 20;
  private reported = false;

  constructor(
    private readonly options: LockOptions,
    private readonly waitMs: number,
  ) {
    this.deadline = Date.now() + waitMs;
  }

  /** Waits a little; throws ELOCKED when the time is up. */
  async wait(holder: HolderRecord | undefined): Promise<void> {
    if (!this.reported) {
      this.reported = true;
      this.options.onWait?.(`waiting for ${this.options.what}: locked by ${describe(holder)}`);
    }
    if (Date.now() >= this.deadline) {
      throw new SyscontainerError('ELOCKED', `${this.options.what} is locked by ${describe(holder)}: gave up after ${Math.round(this.waitMs / 1000)} s`, {
        hint: 'wait for that command to finish and try again',
      });
    }
    await sleep(Math.min(this.delay, Math.max(1, this.deadline - Date.now())));
    this.delay = Math.min(500, this.delay * 2);
  }
}

/**
 * Takes the lock in `dir` (created if missing; removed again when the last holder releases it
 * and nothing else is in it, so locks leave no debris). Resolves when held; ELOCKED after
 * waitMs. The caller must release it (withLock does). Not reentrant by itself: see withLock.
 */
export async function acquireLock(dir: string, options: LockOptions): Promise<HeldLock> {
  const waiter = new Waiter(options, options.waitMs ?? defaultLockWaitMs);
  const record = newRecord();
  const exclusiveFile = path.join(dir, 'exclusive');
  const cleanup = () => rmdir(dir).catch(() => undefined);

  if (options.mode === 'exclusive') {
    for (;;) {
      if (!(await makeLockDir(dir))) continue;
      let temp: string;
      try {
        temp = await writeRecordFile(dir, record);
      } catch (error) {
        if (isGone(error)) continue; // the last holder removed the directory just now
        throw error;
      }
      let linked = false;
      try {
        await link(temp, exclusiveFile);
        linked = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' && !isGone(error)) throw error;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      if (linked) break;
      const holder = await readRecord(exclusiveFile);
      if (holder === 'gone') continue;
      if (holder === undefined || !isAlive(holder)) {
        await breakStaleExclusive(dir, holder);
        continue;
      }
      await waiter.wait(holder);
    }
    const release = async () => {
      const current = await readRecord(exclusiveFile);
      if (current !== 'gone' && current?.nonce === record.nonce) await unlink(exclusiveFile).catch(() => undefined);
      await cleanup();
    };
    try {
      for (;;) {
        const readers = await liveSharedHolders(dir);
        if (readers.length === 0) break;
        await waiter.wait(readers[0]);
      }
    } catch (error) {
      await release();
      throw error;
    }
    return onceReleased(dir, 'exclusive', release);
  }

  const sharedFile = path.join(dir, `shared-${record.nonce}`);
  for (;;) {
    if (!(await makeLockDir(dir))) continue;
    try {
      await rename(await writeRecordFile(dir, record), sharedFile);
    } catch (error) {
      if (isGone(error)) continue;
      throw error;
    }
    const holder = await readRecord(exclusiveFile);
    if (holder === 'gone') break;
    await unlink(sharedFile).catch(() => undefined);
    if (holder === undefined || !isAlive(holder)) {
      await breakStaleExclusive(dir, holder);
      continue;
    }
    await waiter.wait(holder);
  }
  return onceReleased(dir, 'shared', async () => {
    await unlink(sharedFile).catch(() => undefined);
    await cleanup();
  });
}

/**
 * Creates the lock directory; false when it vanished while being made. mkdir -p that finds the
 * directory there checks it with stat, and the last holder's release may remove it in between
 * (ENOENT): the caller tries again.
 */
async function makeLockDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return true;
  } catch (error) {
    if (isGone(error)) return false;
    throw error;
  }
}

function isGone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function onceReleased(dir: string, mode: LockMode, release: () => Promise<void>): HeldLock {
  let done: Promise<void> | undefined;
  return { dir, mode, release: () => (done ??= release()) };
}

/**
 * Runs `body` holding the lock in `dir`, and releases it however `body` ends (a killed process
 * releases nothing, but its records are stale from then on). Reentrant within `body`'s async
 * flow: holding it exclusive covers any mode; holding it shared covers shared (asking for
 * exclusive then is a programming error).
 */
export async function withLock<T>(dir: string, options: LockOptions, body: () => Promise<T>): Promise<T> {
  const key = path.resolve(dir);
  const current = held.getStore();
  const have = current?.get(key);
  if (have === 'exclusive' || (have === 'shared' && options.mode === 'shared')) return body();
  if (have === 'shared') throw new SyscontainerError('ELOCKED', `${options.what}: cannot upgrade a shared lock to exclusive`);
  const lock = await acquireLock(dir, options);
  const next = new Map(current ?? []);
  next.set(key, options.mode);
  try {
    return await held.run(next, body);
  } finally {
    await lock.release();
  }
}
