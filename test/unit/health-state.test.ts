import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  cutOutput,
  initialHealthState,
  parseHealthState,
  readHealthState,
  recordHealthAction,
  recordHealthResult,
  writeHealthState,
  type HealthResult,
  type HealthState,
} from '../../runtime/health/health-state.js';

let clock = 0;
function result(exitCode: number, output = ''): HealthResult {
  clock += 1000;
  return { exitCode, start: new Date(clock).toISOString(), end: new Date(clock + 10).toISOString(), output };
}

function run(codes: number[], options: { retries: number; inStartPeriod?: boolean }, from?: HealthState) {
  let state = from;
  const due: boolean[] = [];
  for (const code of codes) {
    const next = recordHealthResult(state, result(code, `exit ${code}`), { retries: options.retries, inStartPeriod: options.inStartPeriod ?? false });
    state = next.state;
    due.push(next.actionDue);
  }
  return { state: state as HealthState, due };
}

test('a passing check turns healthy; failures count up to retries, then unhealthy and the action is due', (t) => {
  const healthy = run([0], { retries: 3 });
  t.is(healthy.state.status, 'healthy');
  const failing = run([1, 1, 1], { retries: 3 }, healthy.state);
  t.deepEqual(failing.due, [false, false, true]);
  t.is(failing.state.status, 'unhealthy');
  t.is(failing.state.failingStreak, 3);
  const back = run([0], { retries: 3 }, failing.state);
  t.is(back.state.status, 'healthy');
  t.is(back.state.failingStreak, 0);
});

test('before retries failures a healthy container stays healthy (as docker)', (t) => {
  const { state } = run([0, 1, 1], { retries: 3 });
  t.is(state.status, 'healthy');
  t.is(state.failingStreak, 2);
});

test('inside the start period failures do not count until the first success', (t) => {
  const starting = run([1, 1, 1, 1], { retries: 2, inStartPeriod: true });
  t.is(starting.state.status, 'starting');
  t.is(starting.state.failingStreak, 0);
  t.false(starting.due.some(Boolean));
  // A success inside the start period ends it: later failures count.
  const started = run([0, 1, 1], { retries: 2, inStartPeriod: true });
  t.is(started.state.status, 'unhealthy');
  t.deepEqual(started.due, [false, false, true]);
});

test('the log keeps the last 5 results; the output is cut to 4 KiB on a character boundary', (t) => {
  const { state } = run([1, 1, 1, 1, 1, 1, 0], { retries: 100 });
  t.is(state.log.length, 5);
  t.is(state.log.at(-1)?.exitCode, 0);
  const long = recordHealthResult(undefined, result(1, 'é'.repeat(3000)), { retries: 3, inStartPeriod: false });
  const kept = long.state.log[0]?.output ?? '';
  t.true(Buffer.byteLength(kept) <= 4096);
  t.is(kept, 'é'.repeat(2048));
  t.is(cutOutput('abc', 2), 'ab');
  t.is(cutOutput('€', 2), '');
});

test('a new container start starts over at starting, keeping the log', (t) => {
  const first = recordHealthResult(undefined, result(0), { retries: 3, inStartPeriod: false, containerStart: 'A' }).state;
  t.is(first.status, 'healthy');
  const second = recordHealthResult(first, result(1), { retries: 3, inStartPeriod: true, containerStart: 'B' }).state;
  t.is(second.status, 'starting');
  t.is(second.containerStart, 'B');
  t.is(second.log.length, 2);
});

test('the action resets the streak and is remembered with the failing output', (t) => {
  const { state } = run([0, 1, 1], { retries: 2 });
  const after = recordHealthAction(state, 'restart', new Date(0));
  t.is(after.failingStreak, 0);
  t.deepEqual(after.lastAction, { action: 'restart', at: '1970-01-01T00:00:00.000Z', output: 'exit 1' });
});

test('the state file is written atomically and read back; a broken one reads as none', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-health-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.is(await readHealthState(dir), undefined);
  const { state } = run([0, 1], { retries: 3 });
  await writeHealthState(dir, state);
  t.deepEqual(await readHealthState(dir), state);
  t.deepEqual(await readdir(dir), ['health.json'], 'no temporary file left');
  t.is(JSON.parse(await readFile(path.join(dir, 'health.json'), 'utf8')).status, 'healthy');
  await writeHealthState(dir, initialHealthState());
  t.is((await readHealthState(dir))?.status, 'starting');
});

test('every change of status is kept with its time, so one that flipped back between two looks is seen', (t) => {
  const { state } = run([0, 1, 0, 0, 1, 1], { retries: 1 });
  t.deepEqual(
    state.changes?.map((c) => c.status),
    ['healthy', 'unhealthy', 'healthy', 'unhealthy'],
  );
  t.true(state.changes!.every((c, i, all) => i === 0 || Date.parse(c.at) > Date.parse(all[i - 1]!.at)), 'in order, at the end of the result that made each');
  const restarted = recordHealthResult(state, result(0), { retries: 1, inStartPeriod: false, containerStart: 'later' }).state;
  t.is(restarted.changes?.at(-1)?.status, 'healthy', 'a new container start begins at starting: healthy again is a change');
  t.is(restarted.changes?.length, 5, 'kept across starts');
  const many = run(Array.from({ length: 40 }, (_, i) => i % 2), { retries: 1 }).state;
  t.is(many.changes?.length, 10, 'bounded');
  t.deepEqual(parseHealthState(JSON.parse(JSON.stringify(many))), many, 'read back as written');
  t.is(parseHealthState({ ...many, changes: [{ status: 'sick', at: 'now' }] }), undefined, 'a change of an unknown status refuses the record');
});
