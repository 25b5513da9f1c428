import test from 'ava';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { buildTar, opaque, whiteout, type LayerEntry } from '../../images/build/layer.js';
import { SyscontainerError } from '../../common/errors.js';
import { filterLayerTar, type TarFilterReport } from '../../store/content/tar-filter.js';

interface OutEntry {
  name: string;
  type: string;
  mode: number;
  linkname: string | null;
  content: string;
  uid: number;
  gid: number;
}

async function runFilter(input: Buffer, maxEntries?: number): Promise<{ entries: OutEntry[]; report: TarFilterReport }> {
  const filter = filterLayerTar(Readable.from([input]), { what: 'layer test', maxEntries });
  const chunks: Buffer[] = [];
  for await (const chunk of filter.output) chunks.push(chunk as Buffer);
  const report = await filter.done;
  const entries: OutEntry[] = [];
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const body: Buffer[] = [];
      for await (const chunk of entry) body.push(chunk as Buffer);
      const h = entry.header;
      entries.push({ name: h.name, type: h.type, mode: h.mode, linkname: h.linkname, content: Buffer.concat(body).toString(), uid: h.uid, gid: h.gid });
    }
  })();
  extract.end(Buffer.concat(chunks));
  await reading;
  return { entries, report };
}

async function filterEntries(entries: LayerEntry[]) {
  return runFilter(await buildTar(entries));
}

const file = (path: string, content = 'x', extra: Partial<LayerEntry> = {}): LayerEntry => ({ type: 'file', path, content, ...extra }) as LayerEntry;

const rejected = test.macro({
  async exec(t, entries: LayerEntry[], message: RegExp) {
    const error = await t.throwsAsync(filterEntries(entries));
    t.true(error instanceof SyscontainerError);
    t.is((error as SyscontainerError).code, 'ELAYER');
    t.regex(error!.message, message);
  },
  title: (provided = '') => `rejects ${provided}`,
});

test('absolute path', rejected, [file('/etc/passwd')], /"\/etc\/passwd" is an absolute path/);
test('parent component', rejected, [file('../evil')], /"\.\.\/evil" has a "\.\." component/);
test('parent component in the middle', rejected, [file('a/../../evil')], /"a\/\.\.\/\.\.\/evil"/);
test('parent component in a directory entry', rejected, [{ type: 'dir', path: 'ok/../..' }], /"\.\." component/);
test('escape hidden in a pax path record', rejected, [file('innocent', 'x', { pax: { path: '../../etc/shadow' } })], /"\.\.\/\.\.\/etc\/shadow"/);
test('escape in a long (pax) name', rejected, [file(`${'d/'.repeat(80)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../x`)], /"\.\." component/);
test('hardlink to an absolute target', rejected, [file('a'), { type: 'hardlink', path: 'b', target: '/etc/shadow' }], /hardlink target of "b": "\/etc\/shadow" is an absolute path/);
test('hardlink escaping with ..', rejected, [file('a'), { type: 'hardlink', path: 'b', target: 'a/../../x' }], /has a "\.\." component/);
test('hardlink to something not in the layer', rejected, [{ type: 'hardlink', path: 'b', target: 'etc/shadow' }], /not an earlier file of this layer/);
test('hardlink to a directory', rejected, [{ type: 'dir', path: 'd' }, { type: 'hardlink', path: 'b', target: 'd' }], /not an earlier file/);
test('NUL in a pax path', rejected, [file('a', 'x', { pax: { path: 'a\0b' } })], /NUL byte/);

test('rejects an unknown entry type (GNU sparse)', async (t) => {
  const bytes = Buffer.from(await buildTar([file('s', 'x')]));
  // Rewrite the first header's typeflag to 'S' and fix its checksum.
  bytes[156] = 'S'.charCodeAt(0);
  bytes.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += bytes[i]!;
  bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const error = await t.throwsAsync(runFilter(bytes));
  t.is((error as SyscontainerError).code, 'ELAYER');
  t.regex(error!.message, /"s" has an unsupported type/);
});

test('a pax header over 4 MiB is rejected as malformed', async (t) => {
  const error = await t.throwsAsync(filterEntries([file('a', 'x', { pax: { 'SCHILY.xattr.user.big': 'y'.repeat(5 * 1024 * 1024) } })]));
  t.is((error as SyscontainerError).code, 'ELAYER');
  t.regex(error!.message, /malformed tar: Header exceeds max size/);
});

test('garbage instead of a tar is ELAYER', async (t) => {
  const error = await t.throwsAsync(runFilter(Buffer.alloc(1024, 7)));
  t.is((error as SyscontainerError).code, 'ELAYER');
});

test('a truncated tar is ELAYER', async (t) => {
  const bytes = await buildTar([file('a', 'z'.repeat(5000))]);
  const error = await t.throwsAsync(runFilter(bytes.subarray(0, 2048)));
  t.is((error as SyscontainerError).code, 'ELAYER');
});

test('the entry limit gives ELIMIT', async (t) => {
  const error = await t.throwsAsync(runFilter(await buildTar([file('a'), file('b'), file('c')]), 2));
  t.is((error as SyscontainerError).code, 'ELIMIT');
});

test('keeps whiteouts, modes, links; normalises ./; drops devices and FIFOs', async (t) => {
  const { entries, report } = await filterEntries([
    { type: 'dir', path: './' },
    { type: 'dir', path: './etc/', mode: 0o1777 },
    file('./etc/passwd', 'root:x:0:0'),
    file('usr/bin/su', 'elf', { mode: 0o4755, uid: 0, gid: 0 }),
    file('usr/bin/wall', 'elf', { mode: 0o2755, gid: 5 }),
    file('secret', 'nobody reads', { mode: 0 }),
    file('odd', 'x', { mode: 0o7001, uid: 1234, gid: 4321 }),
    { type: 'symlink', path: 'bin', target: '/usr/bin' },
    { type: 'symlink', path: 'up', target: '../../../outside' },
    { type: 'hardlink', path: 'usr/bin/su2', target: './usr/bin/su' },
    whiteout('var/old'),
    opaque('opt/app'),
    { type: 'fifo', path: 'run/fifo' },
    { type: 'char-device', path: 'dev/null', major: 1, minor: 3 },
    { type: 'block-device', path: 'dev/sda' },
  ]);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  t.deepEqual(
    entries.map((entry) => entry.name),
    ['etc', 'etc/passwd', 'usr/bin/su', 'usr/bin/wall', 'secret', 'odd', 'bin', 'up', 'usr/bin/su2', 'var/.wh.old', 'opt/app/.wh..wh..opq'],
  );
  t.is(byName.get('etc')!.mode, 0o1777);
  t.is(byName.get('usr/bin/su')!.mode, 0o4755);
  t.is(byName.get('usr/bin/wall')!.mode, 0o2755);
  t.is(byName.get('secret')!.mode, 0);
  t.is(byName.get('secret')!.content, 'nobody reads');
  t.deepEqual([byName.get('odd')!.mode, byName.get('odd')!.uid, byName.get('odd')!.gid], [0o7001, 1234, 4321]);
  t.is(byName.get('bin')!.linkname, '/usr/bin');
  t.is(byName.get('up')!.linkname, '../../../outside', 'symlink targets are data, resolved inside the container');
  t.is(byName.get('usr/bin/su2')!.type, 'link');
  t.is(byName.get('usr/bin/su2')!.linkname, 'usr/bin/su');
  t.is(byName.get('var/.wh.old')!.type, 'file');
  t.is(report.entries, 11);
  t.is(report.droppedCount, 3);
  t.deepEqual(report.dropped.map((d) => d.path), ['run/fifo', 'dev/null', 'dev/sda']);
  t.regex(report.dropped[0]!.reason, /fifo/);
});

test('long names and big files pass through unchanged', async (t) => {
  const longName = `${'long-directory-name/'.repeat(12)}file`;
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 1);
  const { entries } = await filterEntries([{ type: 'file', path: longName, content: big }]);
  t.is(entries[0]!.name, longName);
  t.is(entries[0]!.content.length, big.length);
});

/** The raw output bytes of the filter. */
async function filteredBytes(input: Buffer): Promise<Buffer> {
  const filter = filterLayerTar(Readable.from([input]), { what: 'layer test' });
  const chunks: Buffer[] = [];
  for await (const chunk of filter.output) chunks.push(chunk as Buffer);
  await filter.done;
  return Buffer.concat(chunks);
}

test('plain entries that need no change go out as their own bytes, fed in any chunking', async (t) => {
  const input = await buildTar([
    { type: 'dir', path: 'etc' },
    file('etc/hostname', 'box\n', { mode: 0o600, uid: 7, gid: 8 }),
    file('big', 'b'.repeat(70_000)),
    file('empty', ''),
    { type: 'symlink', path: 'link', target: '../etc/hostname' },
    { type: 'hardlink', path: 'again', target: 'big' },
  ]);
  // etc/hostname's header as GNU tar writes it (magic "ustar  \0"): kept as it is, where
  // writing headers anew would make it POSIX ustar.
  const header = input.subarray(512, 1024);
  header.write('ustar  \0', 257, 'latin1');
  header.fill(0x20, 148, 156);
  header.write(`${header.reduce((sum, byte) => sum + byte, 0).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const output = await filteredBytes(input);
  // The same entries and the two end blocks (tar-stream pads its archive further; we do not).
  let end = input.length;
  while (end > 0 && input[end - 1] === 0) end--;
  end += 512 - (end % 512 || 512); // the last entry's padding
  t.true(output.subarray(0, end).equals(input.subarray(0, end)), 'entries byte for byte');
  t.true(output.subarray(end).every((byte) => byte === 0));
  // Byte by byte: headers split across chunks are read the same.
  const filter = filterLayerTar(Readable.from([...input].map((byte) => Buffer.of(byte))), { what: 'layer test' });
  const chunks: Buffer[] = [];
  for await (const chunk of filter.output) chunks.push(chunk as Buffer);
  t.true(Buffer.concat(chunks).equals(output));
});

test('an entry that must change gets a new header; the others around it keep theirs', async (t) => {
  const { entries } = await filterEntries([
    file('a', 'one'),
    file('./b', 'two'),
    file('c', 'three', { pax: { 'SCHILY.xattr.user.k': 'v', comment: 'dropped' } }),
    file('d', 'four'),
  ]);
  t.deepEqual(entries.map((e) => [e.name, e.content]), [['a', 'one'], ['b', 'two'], ['c', 'three'], ['d', 'four']]);
});
