// Crash safety of apply: `apply` of a paunch file (two containers) and of an edited one, and
// `delete -f`, killed with SIGKILL at random points, through the real CLI, registry, ostree
// and runc (no systemd: the runc path). After each kill every container is in a whole state
// (containerProblems), `containers list` works, and the next apply converges: exit 0, every
// declared container running, and a further apply changes nothing.
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { cli, containerProblems, FaultTally, faultKitNeeds, isolatedEnv, runAndKill, serviceImagesInRegistry, soak } from '../helpers/fault-kit.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

const prefix = `fa${process.pid % 100000}`;
const rounds = soak ? 12 : 3;
const images = serviceImagesInRegistry('faults/apply', prefix);

function config(version: 'v1' | 'v2'): string {
  const image = version === 'v1' ? images.v1 : images.v2;
  return JSON.stringify({
    [`${prefix}one`]: { image, start_order: 0, net: 'host', environment: [`VERSION=${version}`] },
    [`${prefix}two`]: { image, start_order: 1, depends_on: [`${prefix}one`], net: 'host' },
  });
}

test('kill -9 at random points of apply, apply of an edit, and delete -f; the next apply converges', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const file = join(dir, 'fa.json');
  const names = [`${prefix}one`, `${prefix}two`];
  t.teardown(async () => void (await cli(['delete', '-f', file], env)));
  t.is((await cli(['pull', images.v1], env)).exitCode, 0);
  t.is((await cli(['pull', images.v2], env)).exitCode, 0);
  // One uninterrupted pass measures the commands.
  await writeFile(file, config('v1'));
  let began = Date.now();
  t.is((await cli(['apply', '-f', file], env)).exitCode, 0);
  const applyMs = Date.now() - began;
  began = Date.now();
  t.is((await cli(['delete', '-f', file], env)).exitCode, 0);
  const deleteMs = Date.now() - began;
  const tally = new FaultTally();

  const settledProblems = async (expectInstalled: boolean): Promise<string[]> => {
    const problems: string[] = [];
    for (const name of names) {
      const { problems: p, state } = await containerProblems(env, name, true);
      problems.push(...p.map((x) => `${name}: ${x}`));
      if ((state.active !== undefined) !== expectInstalled) problems.push(`${name}: ${expectInstalled ? 'not installed' : 'still installed'}`);
      if (expectInstalled) {
        const runc = await execa('runc', ['state', name], { reject: false });
        if (runc.exitCode !== 0 || JSON.parse(runc.stdout).status !== 'running') problems.push(`${name}: not running`);
      }
    }
    return problems;
  };

  for (let round = 0; round < rounds; round++) {
    for (const step of ['apply', 'edit', 'delete'] as const) {
      if (step === 'edit') await writeFile(file, config(round % 2 === 0 ? 'v2' : 'v1'));
      else if (step === 'apply') await writeFile(file, config(round % 2 === 0 ? 'v1' : 'v2'));
      const args = step === 'delete' ? ['delete', '-f', file] : ['apply', '-f', file];
      const delay = 150 + Math.floor(Math.random() * Math.max(100, (step === 'delete' ? deleteMs : applyMs) * 0.8 - 150));
      const { killed, result } = await runAndKill(args, env, delay);
      if (!killed) {
        t.true(result.exitCode === 0 || (step === 'delete' && /owns no container/.test(result.stderr)), `${step} (not killed): ${result.stderr}`);
        continue;
      }
      tally.injected++;
      const problems: string[] = [];
      for (const name of names) problems.push(...(await containerProblems(env, name, false)).problems.map((p) => `${name}: ${p}`));
      const listed = await cli(['containers', 'list', '--json'], env);
      if (listed.exitCode !== 0) problems.push(`containers list: ${listed.stderr}`);
      // The next run finishes the job.
      const again = await cli(args, env);
      if (again.exitCode !== 0 && !(step === 'delete' && /owns no container/.test(again.stderr))) problems.push(`${step} again: exit ${again.exitCode}: ${again.stderr.split('\n').slice(-2).join(' | ')}`);
      problems.push(...(await settledProblems(step !== 'delete')).map((p) => `settled: ${p}`));
      if (step !== 'delete') {
        const third = await cli(args, env);
        if (!/0 created, 0 configured, 2 unchanged, 0 pruned/.test(third.stdout)) problems.push(`a further apply changed something: ${third.stdout.trim().split('\n').pop()}`);
      }
      if (problems.length === 0) tally.survived++;
      else tally.notes.push(`${step} killed at ${delay} ms: ${problems.join('; ')}`);
    }
  }
  tally.report(t, 'kill -9 (apply)');
  t.deepEqual(tally.notes, []);
  t.is(tally.survived, tally.injected);
});
