// Crash safety: `pull`, `install`, `update`, `rollback` and `uninstall` killed with SIGKILL at
// random points, through the real CLI, registry, ostree and runc (no systemd: the runc path).
// After each kill: ostree fsck clean and every image ref complete; the container in its old or
// its new state (symlink to a slot with an info record; a unit only for a complete slot);
// `containers list` works; re-running the command completes (then the container starts); the
// data in the container's state directory is never lost. After the cycle `uninstall` leaves
// nothing. Default ~30 kill points (2 × 4 rounds × 5 commands, some finish first); SYSCONTAINER_SOAK=1: 160 tries.
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { cli, containerProblems, FaultTally, isolatedEnv, runAndKill, serviceImagesInRegistry, soak, storeProblems, faultKitNeeds } from '../helpers/fault-kit.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

const prefix = `fk${process.pid}`;
const rounds = soak ? 16 : 4;
const images = serviceImagesInRegistry('faults/crash', prefix);

type Op = 'pull' | 'install' | 'update' | 'rollback' | 'uninstall';

async function cycle(t: ExecutionContext, label: string): Promise<void> {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const name = `${prefix}${label}`;
  const stateRoot = join(dir, 'state');
  const precious = join(stateRoot, name, 'precious');
  const preciousText = `data of ${name}\n`;
  await mkdir(join(stateRoot, name, 'data'), { recursive: true });
  await writeFile(precious, preciousText);
  await writeFile(join(stateRoot, name, 'data', 'precious'), preciousText);
  t.teardown(async () => void (await cli(['uninstall', name], env)));
  const tally = new FaultTally();

  const args: Record<Op, string[]> = {
    pull: ['pull', images.v1],
    install: ['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${stateRoot}`, '--no-pull', images.v1],
    update: ['update', '--rebase', images.v2, '--no-pull', name],
    rollback: ['rollback', name],
    uninstall: ['uninstall', name],
  };

  t.is((await cli(['pull', images.v2], env)).exitCode, 0);
  // One uninterrupted pass measures how long each command takes: kills are spread over that.
  const duration = {} as Record<Op, number>;
  for (const op of ['pull', 'install', 'update', 'rollback', 'uninstall'] as Op[]) {
    const began = Date.now();
    const run = await cli(args[op], env);
    t.is(run.exitCode, 0, `${op}: ${run.stderr}`);
    duration[op] = Date.now() - began;
  }
  t.log(`${label}: uninterrupted ms ${JSON.stringify(duration)}`);

  const dataIntact = () => existsSync(precious) && readFileSync(precious, 'utf8') === preciousText && readFileSync(join(stateRoot, name, 'data', 'precious'), 'utf8') === preciousText;

  for (let round = 0; round < rounds; round++) {
    // The pull must have work to do: the image goes, and prune removes its content.
    await cli(['images', 'delete', images.v1], env);
    t.is((await cli(['images', 'prune'], env)).exitCode, 0);
    for (const op of ['pull', 'install', 'update', 'rollback', 'uninstall'] as Op[]) {
      const before = await containerProblems(env, name, true);
      // Measured under the load of parallel tests; runs may be faster later: aim at the first 70 %.
      const delay = 150 + Math.floor(Math.random() * Math.max(100, duration[op] * 0.7 - 150));
      const began = Date.now();
      const { killed, result } = await runAndKill(args[op], env, delay);
      if (!killed) {
        t.is(result.exitCode, 0, `${op} (not killed): ${result.stderr}`);
        // It finished first: the machine is faster now than when the pass above measured it
        // (the load of other tests comes and goes). Aim the next kills of this command at
        // what this run took, so the cycle keeps cutting runs short at any load.
        duration[op] = Math.min(duration[op], Date.now() - began);
        continue;
      }
      tally.injected++;
      const problems: string[] = [];
      // Right after the kill.
      if (op === 'pull') problems.push(...(await storeProblems(env)));
      problems.push(...(await containerProblems(env, name, false)).problems);
      const listed = await cli(['containers', 'list', '--json'], env);
      if (listed.exitCode !== 0) problems.push(`containers list: ${listed.stderr}`);
      const after = await containerProblems(env, name, false);

      // Re-running completes. A rollback that already switched must not be run again (it would switch back).
      const switched = op === 'rollback' && after.state.active !== before.state.active;
      if (!switched) {
        const again = await cli(args[op], env);
        const acceptable =
          again.exitCode === 0 ||
          (op === 'install' && after.state.active !== undefined && /already installed/.test(again.stderr)) ||
          (op === 'uninstall' && /is not installed/.test(again.stderr));
        if (!acceptable) problems.push(`${op} again: exit ${again.exitCode}: ${again.stderr.split('\n').slice(-2).join(' | ')}`);
      }
      if (op !== 'uninstall' && op !== 'pull') {
        // It is usable: start (idempotent) puts it in its running state and repairs what the kill cut short.
        const started = await cli(['start', name], env);
        if (started.exitCode !== 0) problems.push(`start: ${started.stderr}`);
      }
      const settled = await containerProblems(env, name, true);
      problems.push(...settled.problems.map((p) => `settled: ${p}`));
      const expected = { pull: undefined, install: 0, update: 1, rollback: 0, uninstall: undefined }[op];
      if (settled.state.active !== expected) problems.push(`after ${op}: active slot ${String(settled.state.active)}, expected ${String(expected)}`);
      if (op !== 'uninstall' && op !== 'pull') {
        const state = await execa('runc', ['state', name], { reject: false });
        if (state.exitCode !== 0 || JSON.parse(state.stdout).status !== 'running') problems.push(`after ${op}: container not running`);
      }
      if (!dataIntact()) {
        tally.dataLost++;
        problems.push('state directory data lost');
      }
      if (problems.length === 0) tally.survived++;
      else tally.notes.push(`${op} killed at ${delay} ms: ${problems.join('; ')}`);
    }
  }
  // Whatever happened, a final uninstall leaves nothing but the state directory.
  await cli(['uninstall', name], env);
  t.deepEqual((await containerProblems(env, name, true)).problems, []);
  t.false(existsSync(join(env.SYSCONTAINER_UNIT_DIR!, `${name}.service`)));
  t.true(dataIntact(), 'state directory kept');
  t.deepEqual(await storeProblems(env), []);
  tally.report(t, `kill -9 (${label})`);
  t.is(tally.dataLost, 0);
  t.deepEqual(tally.notes, []);
  t.is(tally.survived, tally.injected);
  t.true(tally.injected >= rounds * 3, 'most runs were actually cut short');
}

test('kill -9 at random points of pull, install, update, rollback, uninstall (A)', (t) => cycle(t, 'a'));
test('kill -9 at random points of pull, install, update, rollback, uninstall (B)', (t) => cycle(t, 'b'));
