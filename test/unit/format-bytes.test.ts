import test from 'ava';
import { formatBytes } from '../../cli/format.js';

test('sizes and rates print in SI units; a rate under 1 kB/s is whole bytes, not a long fraction', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(435), '435 B');
  t.is(formatBytes(435 / 0.487), '893 B');
  t.is(formatBytes(1800), '1.8 kB');
  t.is(formatBytes(15_000_000), '15 MB');
  t.is(formatBytes(3_200_000), '3.2 MB');
});
