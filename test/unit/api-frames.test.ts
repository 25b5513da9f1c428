// Docker's multiplexed stream: 8-byte headers {stream, 0, 0, 0, size BE}, payload cut into
// frames of at most 32 KiB, decoded whatever the chunk boundaries.
import test from 'ava';
import { encodeFrames, FrameDecoder } from '../../api/multiplexed-stream.js';

test('a frame is the 8-byte header and the payload', (t) => {
  t.deepEqual([...encodeFrames('stdout', 'hi\n')], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  t.deepEqual([...encodeFrames('stderr', 'x').subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 1]);
  t.deepEqual([...encodeFrames('system', 'e').subarray(0, 1)], [3]);
  t.is(encodeFrames('stdout', '').length, 0, 'no frame for nothing');
});

test('a large payload becomes several frames that decode back to it, split anywhere', (t) => {
  const payload = Buffer.alloc(100_000, 'a');
  payload.write('end', 99_997);
  const bytes = Buffer.concat([encodeFrames('stdout', payload), encodeFrames('stderr', 'oops')]);
  for (const step of [7, 8, 9, 4096, bytes.length]) {
    const decoder = new FrameDecoder();
    const frames = [];
    for (let offset = 0; offset < bytes.length; offset += step) frames.push(...decoder.push(bytes.subarray(offset, offset + step)));
    t.deepEqual(frames.map((f) => f.stream), ['stdout', 'stdout', 'stdout', 'stdout', 'stderr'], `step ${step}`);
    t.true(frames.every((f) => f.data.length <= 32 * 1024));
    t.deepEqual(Buffer.concat(frames.filter((f) => f.stream === 'stdout').map((f) => f.data)), payload);
    t.is(decoder.leftover, 0);
  }
});

test('frames split byte by byte decode too', (t) => {
  const bytes = Buffer.concat([encodeFrames('stdout', 'out\n'), encodeFrames('stderr', 'err\n')]);
  const decoder = new FrameDecoder();
  const frames = [...bytes].flatMap((byte) => decoder.push(Buffer.from([byte])));
  t.deepEqual(frames.map((f) => `${f.stream}:${f.data.toString()}`), ['stdout:out\n', 'stderr:err\n']);
});

test('a header no server sends is refused', (t) => {
  t.throws(() => new FrameDecoder().push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 1, 0])), { message: /not a multiplexed stream header/ });
  t.throws(() => new FrameDecoder().push(Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0])), { message: /not a multiplexed stream header/ });
});
