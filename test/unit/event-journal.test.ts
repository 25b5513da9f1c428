import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { EventJournal, type RecordedEvent } from '../../app/event-journal.js';

const event = (n: number): RecordedEvent => ({ type: 'container', action: 'start', id: `c${n}`, attributes: { name: `n${n}` }, timeNano: n * 1e9 });

async function dir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'event-journal-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('events are kept on disk (0600) and read back by the next run, a half-written line skipped', async (t) => {
  const file = path.join(await dir(t), '.service', 'events.jsonl');
  const first = new EventJournal(file, 10);
  await first.load();
  for (let n = 1; n <= 3; n++) await first.append(event(n));
  t.is((await stat(file)).mode & 0o777, 0o600);
  await appendFile(file, '{"type":"container","act');
  const second = new EventJournal(file, 10);
  await second.load();
  t.deepEqual(second.all(), [event(1), event(2), event(3)]);
});

test('bounded: at twice the capacity on disk the file is rewritten with the last capacity, in order', async (t) => {
  const file = path.join(await dir(t), 'events.jsonl');
  const journal = new EventJournal(file, 5);
  await journal.load();
  await Promise.all(Array.from({ length: 23 }, (_, i) => journal.append(event(i + 1))));
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  t.true(lines.length <= 10, `${lines.length} lines on disk`);
  t.deepEqual(journal.all().map((e) => e.id), ['c19', 'c20', 'c21', 'c22', 'c23']);
  const again = new EventJournal(file, 5);
  await again.load();
  t.deepEqual(again.all(), journal.all(), 'no event lost or doubled by the rewrite');
});

test('several writers (the service, CLI commands): each reads what the others appended, `once` writes an event once, subscribers get every event whoever wrote it', async (t) => {
  const file = path.join(await dir(t), 'events.jsonl');
  const service = new EventJournal(file, 5);
  const cli = new EventJournal(file, 5);
  await service.load();
  const heard: string[] = [];
  service.subscribe((e) => heard.push(e.id));
  t.true(await service.append(event(1)));
  t.true(await cli.append(event(2)));
  const die = { ...event(3), action: 'die' };
  t.true(await cli.append(die, { once: true }));
  t.false(await service.append(die, { once: true }), 'the same exit told by the second writer is not written again');
  await service.refresh();
  t.deepEqual(heard, ['c1', 'c2', 'c3']);
  // Over twice the capacity, rewritten by whichever writer gets there: nothing lost, nothing doubled.
  for (let n = 4; n <= 14; n++) await (n % 2 === 0 ? cli : service).append(event(n));
  await service.refresh();
  t.deepEqual(heard, Array.from({ length: 14 }, (_, i) => `c${i + 1}`));
  t.deepEqual(service.all().map((e) => e.id), ['c10', 'c11', 'c12', 'c13', 'c14']);
  t.true(service.horizon() > 0, 'events before the oldest kept may have been dropped');
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as RecordedEvent).id);
  t.deepEqual(lines.slice(-5), ['c10', 'c11', 'c12', 'c13', 'c14']);
  t.is(new Set(lines).size, lines.length);
});
