// When a daemon-reload is needed after unit files were written or removed: read from what
// `systemctl show -p Id,LoadState,NeedDaemonReload UNIT...` answers (runtime/systemd.ts). The
// answers below are systemd 252's, as seen in the test harness.
import test from 'ava';
import { unitsToReload } from '../../runtime/systemd.js';

const block = (id: string, load: string, need: string) => `Id=${id}\nLoadState=${load}\nNeedDaemonReload=${need}\n`;

const decides = test.macro({
  exec(t, answer: string, changes: { written?: string[]; removed?: string[] }, expected: string[]) {
    t.deepEqual(unitsToReload(answer, changes.written ?? [], changes.removed ?? []), expected);
  },
  title: (given) => given ?? '',
});

test('a written unit systemd never loaded: the question loads it fresh, no reload', decides, block('a.service', 'loaded', 'no'), { written: ['a.service'] }, []);
test('a written unit loaded in an older version', decides, block('a.service', 'loaded', 'yes'), { written: ['a.service'] }, ['a.service']);
test('a written unit systemd still has as not-found', decides, block('a.service', 'not-found', 'no'), { written: ['a.service'] }, ['a.service']);
test('a written unit systemd has masked or could not load', decides, block('a.service', 'masked', 'no') + '\n' + block('b.service', 'error', 'no'), { written: ['a.service', 'b.service'] }, ['a.service', 'b.service']);
test('a removed unit systemd has no more: no reload', decides, block('a.service', 'not-found', 'no'), { removed: ['a.service'] }, []);
test('a removed unit still loaded (running, or pulled in at boot)', decides, block('a.service', 'loaded', 'yes'), { removed: ['a.service'] }, ['a.service']);
test('several units in one answer, matched by Id', decides, [block('a.service', 'loaded', 'no'), block('a-healthcheck.timer', 'loaded', 'yes'), block('b.service', 'not-found', 'no')].join('\n'), { written: ['a.service', 'a-healthcheck.timer'], removed: ['b.service'] }, ['a-healthcheck.timer']);
test('a unit the answer does not name counts as stale', decides, block('a.service', 'loaded', 'no'), { written: ['a.service', 'b.service'] }, ['b.service']);
test('no answer at all: every unit', decides, '', { written: ['a.service'], removed: ['b.service'] }, ['a.service', 'b.service']);
