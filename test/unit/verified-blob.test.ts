import { Readable } from 'node:stream';
import test from 'ava';
import { IntegrityError } from '../../common/errors.js';
import { readAllBounded, verifiedBlobStream } from '../../store/content/verified-blob.js';
import { shortDigest } from '../../common/digest.js';
import { collect, sha256 } from '../helpers/fake-registry.js';

const data = Buffer.from('hello, blob');
const expected = { digest: sha256(data), size: data.length };

test('passes matching bytes through and ends', async (t) => {
  t.true((await collect(verifiedBlobStream(Readable.from([data.subarray(0, 3), data.subarray(3)]), expected, 'blob x'))).equals(data));
});

test('size and digest faults are IntegrityErrors with expected and found', async (t) => {
  const short = await t.throwsAsync(collect(verifiedBlobStream(Readable.from([data.subarray(1)]), expected, 'blob x')));
  t.true(short instanceof IntegrityError);
  t.is(short!.message, `blob x size mismatch: expected ${data.length}, got ${data.length - 1}`);
  const flipped = Buffer.from(data);
  flipped[0] = 0x48;
  const wrong = await t.throwsAsync(collect(verifiedBlobStream(Readable.from([flipped]), expected, 'blob x')));
  t.is((wrong as IntegrityError).expected, expected.digest);
  t.is((wrong as IntegrityError).found, sha256(flipped));
});

test('stops at the first byte beyond the size and destroys the source', async (t) => {
  let pulled = 0;
  const endless = new Readable({
    read() {
      pulled++;
      this.push(Buffer.alloc(1024));
    },
  });
  const error = await t.throwsAsync(collect(verifiedBlobStream(endless, { digest: expected.digest, size: 4096 }, 'blob x')));
  t.regex(error!.message, /expected 4096, got more than 4096 bytes/);
  await new Promise((resolve) => setImmediate(resolve));
  t.true(endless.destroyed);
  t.true(pulled < 100);
});

test('source errors come out of the verified stream', async (t) => {
  const failing = new Readable({ read() { this.destroy(new Error('boom')); } });
  await t.throwsAsync(collect(verifiedBlobStream(failing, expected, 'blob x')), { message: 'boom' });
});

test('readAllBounded and shortDigest', async (t) => {
  await t.throwsAsync(readAllBounded(Readable.from([Buffer.alloc(10)]), 5, () => new Error('too big')), { message: 'too big' });
  t.is((await readAllBounded(Readable.from([Buffer.alloc(5)]), 5, () => new Error('x'))).length, 5);
  t.is(shortDigest(`sha256:${'0123456789abcdef'.repeat(4)}`), 'sha256:0123456789ab…');
});
