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
