// Concurrency: the file locks of store/lock.ts across processes (kill -9 leaves none held),
// and syscontainer commands racing each other through the real CLI, registry, ostree and runc.
// Needs root, runc, docker-registry and /bin/busybox.
import { execa } from 'execa';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock, withLock } from '../../common/file-lock.js';
import { tempDir } from '../helpers/cli.js';
import { cli, containerProblems, isolatedEnv, serviceImagesInRegistry, spawnCli, storeProblems, faultKitNeeds } from '../helpers/fault-kit.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

const lockModule = fileURLToPath(new URL('../../common/file-lock.js', import.meta.url));
const prefix = `fc${process.pid}`;
const images = serviceImagesInRegistry('faults/concurrency', prefix);

/** A child process that takes the lock in `dir` and holds it until killed; resolves once held. */
async function holder(dir: string, mode: 'shared' | 'exclusive') {
  const script = `import { acquireLock } from ${JSON.stringify(lockModule)};
await acquireLock(${JSON.stringify(dir)}, { mode: ${JSON.stringify(mode)}, what: 'test lock', waitMs: 10000 });
process.stdout.write('held\\n');
setInterval(() => {}, 1000);`;
  const child = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, buffer: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve());
    void child.then((r) => reject(new Error(`holder exited: ${String(r.stderr ?? '')}`)));
  });
  // Wrapped: a subprocess is thenable, and returning it from an async function would await it.
  return { child };
}

test('an exclusive lock held by another process: the waiter says so, then ELOCKED; kill -9 frees it at once', async (t) => {
  const dir = join(await tempDir(t), 'lock');
  const { child } = await holder(dir, 'exclusive');
  const messages: string[] = [];
  const error = await t.throwsAsync(acquireLock(dir, { mode: 'exclusive', what: 'container x', waitMs: 400, onWait: (m) => messages.push(m) }));
  t.is((error as { code?: string }).code, 'ELOCKED');
  t.regex(error!.message, new RegExp(`container x is locked by pid ${child.pid}`));
  t.is(messages.length, 1, 'the wait is announced once');
  t.regex(messages[0] ?? '', new RegExp(`^waiting for container x: locked by pid ${child.pid}`));
  await t.throwsAsync(acquireLock(dir, { mode: 'shared', what: 'container x', waitMs: 200 }), { message: /locked by pid/ });

  child.kill('SIGKILL');
  await child;
  // Not waited out: the dead holder's record is found stale and removed, so no wait begins.
  const waits: string[] = [];
  const lock = await acquireLock(dir, { mode: 'exclusive', what: 'container x', waitMs: 60_000, onWait: (m) => waits.push(m) });
  t.deepEqual(waits, [], 'a dead holder does not make anyone wait');
  await lock.release();
});

test('shared holders coexist; an exclusive waits for all of them, and blocks new shared ones meanwhile', async (t) => {
  const dir = join(await tempDir(t), 'lock');
  const { child: a } = await holder(dir, 'shared');
  const b = await acquireLock(dir, { mode: 'shared', what: 'store', waitMs: 1000 });
  let exclusiveHeld = false;
  const exclusive = acquireLock(dir, { mode: 'exclusive', what: 'store', waitMs: 5000 }).then((lock) => {
    exclusiveHeld = true;
    return lock;
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.false(exclusiveHeld, 'exclusive waits for the shared holders');
  await t.throwsAsync(acquireLock(dir, { mode: 'shared', what: 'store', waitMs: 200 }), { message: /locked/ }, 'a waiting exclusive holder keeps new readers out');
  await b.release();
  a.kill('SIGKILL'); // dies holding it: its record is stale
  await a;
  const lock = await exclusive;
  t.true(exclusiveHeld);
  await lock.release();
});

test('withLock is reentrant within one call chain and excludes parallel calls in the same process', async (t) => {
  const dir = join(await tempDir(t), 'lock');
  const order: string[] = [];
  const first = withLock(dir, { mode: 'exclusive', what: 'c' }, async () => {
    order.push('first in');
    await withLock(dir, { mode: 'exclusive', what: 'c' }, async () => order.push('nested'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    order.push('first out');
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = withLock(dir, { mode: 'exclusive', what: 'c' }, async () => order.push('second'));
  await Promise.all([first, second]);
  t.deepEqual(order, ['first in', 'nested', 'first out', 'second']);
});

test('two pulls of the same image at once both succeed; the store is fsck-clean', async (t) => {
  const env = isolatedEnv(await tempDir(t));
  const [a, b] = await Promise.all([spawnCli(['pull', images.v1], env), spawnCli(['pull', images.v1], env)]);
  t.is(a.exitCode, 0, a.stderr);
  t.is(b.exitCode, 0, b.stderr);
  t.is(a.stdout, b.stdout, 'same manifest digest');
  const fetched = [a.stderr, b.stderr].map((s) => Number(/(\d+) layer\(s\) fetched/.exec(s)?.[1]));
  t.deepEqual(fetched.sort(), [0, 2], 'one fetched the layers, the other waited and found them stored');
  t.deepEqual(await storeProblems(env), []);
});

test('prune racing pulls: prune waits for the store lock; nothing a finished pull stored is lost', async (t) => {
  const env = isolatedEnv(await tempDir(t));
  t.is((await cli(['pull', images.v1], env)).exitCode, 0);
  t.is((await cli(['images', 'delete', images.v1], env)).exitCode, 0);
  const runs = await Promise.all([spawnCli(['pull', images.v2], env), spawnCli(['images', 'prune'], env), spawnCli(['pull', images.v1], env), spawnCli(['images', 'prune'], env)]);
  for (const run of runs) t.is(run.exitCode, 0, run.stderr);
  t.deepEqual(await storeProblems(env), []);
  const names = (JSON.parse((await cli(['images', 'list', '--json'], env)).stdout) as { name: string }[]).map((i) => i.name);
  t.deepEqual(names.sort(), [images.v1, images.v2].sort());
});

test('install of two names at once: both succeed', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await mkdir(join(dir, 'state'));
  const names = [`${prefix}a`, `${prefix}b`];
  t.teardown(async () => {
    for (const name of names) await cli(['uninstall', name], env);
  });
  const runs = await Promise.all(names.map((name) => spawnCli(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${join(dir, 'state')}`, images.v1], env)));
  for (const run of runs) t.is(run.exitCode, 0, run.stderr);
  const listed = JSON.parse((await cli(['containers', 'list', '--json'], env)).stdout) as { name: string; state: string }[];
  t.deepEqual(listed.map((c) => [c.name, c.state]), names.map((n) => [n, 'running']));
  for (const name of names) t.deepEqual((await containerProblems(env, name, true)).problems, []);
  t.deepEqual(await storeProblems(env), []);
});

test('install of one name twice at once: one installs, the other waits and finds it already present', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const name = `${prefix}c`;
  t.teardown(async () => void (await cli(['uninstall', name], env)));
  t.is((await cli(['pull', images.v1], env)).exitCode, 0);
  const runs = await Promise.all([0, 1].map(() => spawnCli(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${dir}`, images.v1], env)));
  t.deepEqual(runs.map((r) => r.exitCode), [0, 0], runs.map((r) => r.stderr).join('\n'));
  const loser = runs.find((r) => r.stdout === `${name} already present`);
  t.truthy(loser, runs.map((r) => r.stdout).join('\n'));
  t.regex(loser!.stderr, new RegExp(`waiting for container ${name}`));
  t.deepEqual((await containerProblems(env, name, true)).problems, []);
});

test('update racing uninstall of the same name: one wins, the other waits then errors clearly or succeeds; nothing is corrupted', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const name = `${prefix}d`;
  t.teardown(async () => void (await cli(['uninstall', name], env)));
  t.is((await cli(['pull', images.v2], env)).exitCode, 0);
  t.is((await cli(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${dir}`, images.v1], env)).exitCode, 0);
  const [update, uninstall] = await Promise.all([
    spawnCli(['update', '--rebase', images.v2, '--no-pull', name], env),
    new Promise((resolve) => setTimeout(resolve, 100)).then(() => spawnCli(['uninstall', name], env)),
  ]);
  t.is(uninstall.exitCode, 0, uninstall.stderr);
  if (update.exitCode !== 0) {
    t.regex(update.stderr, new RegExp(`container ${name} is not installed`), 'the update lost: a clear error');
  } else {
    t.regex(uninstall.stderr, new RegExp(`waiting for container ${name}`), 'the uninstall waited for the update');
  }
  t.log(update.exitCode === 0 ? 'update won, uninstall waited' : 'uninstall won, update failed cleanly');
  t.deepEqual((await containerProblems(env, name, true)).problems, []);
  const listed = await cli(['containers', 'list', '--json'], env);
  t.is(listed.exitCode, 0);
  t.deepEqual(JSON.parse(listed.stdout), []);
  t.is((await cli(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${dir}`, images.v1], env)).exitCode, 0, 'the name is usable again');
  t.is((await cli(['uninstall', name], env)).exitCode, 0);
  t.is((await execa('runc', ['state', name], { reject: false })).exitCode, 1, 'no runc container left');
});
