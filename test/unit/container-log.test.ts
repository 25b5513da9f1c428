// The runc-direct container log: lines the monitor's taggers stamped with time and stream, and
// the lines of a log written before the streams were kept apart, which read as stdout.
import test from 'ava';
import { formatContainerLog, logMessages, parseContainerLog } from '../../runtime/supervisor/container-log.js';

test('a log from before the streams were kept apart reads as stdout at the time given; tagged lines keep their own', (t) => {
  const text = 'old line\n1796234481.743366 stdout out\n1796234481.743918 stderr err: with spaces \n';
  t.deepEqual(parseContainerLog(text, 42), [
    { timeUsec: 42, message: 'old line', stream: 'stdout' },
    { timeUsec: 1796234481743366, message: 'out', stream: 'stdout' },
    { timeUsec: 1796234481743918, message: 'err: with spaces ', stream: 'stderr' },
  ]);
  t.is(logMessages(text), 'old line\nout\nerr: with spaces \n');
});

test("a one-shot run's output, written at once, reads back as it was, stream by stream", (t) => {
  const text = formatContainerLog('a\nb\n', 'stdout', 1_700_000_000_000_005) + formatContainerLog('c', 'stderr', 1_700_000_000_000_005);
  t.deepEqual(parseContainerLog(text, 0), [
    { timeUsec: 1_700_000_000_000_005, message: 'a', stream: 'stdout' },
    { timeUsec: 1_700_000_000_000_005, message: 'b', stream: 'stdout' },
    { timeUsec: 1_700_000_000_000_005, message: 'c', stream: 'stderr' },
  ]);
});
