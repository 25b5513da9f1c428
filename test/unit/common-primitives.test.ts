// The shared primitives of common/: the bounded map's failure contract, the meter, the digest forms.
import test from 'ava';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapBounded } from '../../common/bounded-map.js';
import { sha256Digest, shortDigest, shortId } from '../../common/digest.js';
import { Meter } from '../../common/metering.js';

test('mapBounded keeps to its limit and returns results in the items\' order', async (t) => {
  let running = 0;
  let most = 0;
  const results = await mapBounded([30, 5, 20, 1, 10], 2, async (ms, index) => {
    most = Math.max(most, ++running);
    await sleep(ms);
    running--;
    return `${index}:${ms}`;
  });
  t.is(most, 2);
  t.deepEqual(results, ['0:30', '1:5', '2:20', '3:1', '4:10']);
});

test('mapBounded starts nothing after a failure and throws the first error once running work settled', async (t) => {
  const started: number[] = [];
  let settled = 0;
  const error = await t.throwsAsync(
    mapBounded([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      if (item === 1) {
        await sleep(10);
        throw new Error('first');
      }
      await sleep(80);
      settled++;
      throw new Error('later');
    }),
  );
  t.is(error?.message, 'first');
  t.deepEqual(started, [0, 1], 'nothing started after the failure');
  t.is(settled, 1, 'the call returned only after the item still running ended');
});

test('Meter counts and hashes what passes, and fails one byte past its limit', async (t) => {
  const data = Buffer.from('x'.repeat(1000));
  const meter = new Meter();
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([data.subarray(0, 300), data.subarray(300)]), meter, new Writable({ write: (chunk, _e, done) => void (chunks.push(chunk), done()) }));
  t.is(meter.bytes, 1000);
  t.is(meter.digest(), `sha256:${createHash('sha256').update(data).digest('hex')}`);
  t.is(meter.digest(), sha256Digest(data), 'asking again gives the same digest');
  t.true(Buffer.concat(chunks).equals(data));

  const bounded = new Meter({ hash: false, limit: 999, onLimit: () => new Error('too big') });
  await t.throwsAsync(pipeline(Readable.from([data]), bounded, new Writable({ write: (_c, _e, done) => done() })), { message: 'too big' });
});

test('one short form in messages, one id form in listings', (t) => {
  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
  t.is(shortDigest(digest), 'sha256:0123456789ab…');
  t.is(shortDigest('sha256:abc'), 'sha256:abc');
  t.is(shortId(digest), '0123456789ab');
});
