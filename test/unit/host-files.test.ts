// Host files of Atomic images: renameFiles by prefix, manifest.json validation, staging,
// switching between deployments' files, and the tmpfiles fallback for bind-mount sources.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { missingBindSourcesTmpfiles } from '../../runtime/bind-mount-tmpfiles.js';
import { parseExportsManifest } from '../../runtime/exports-manifest.js';
import { applyHostFiles, removeHostFiles, stageHostFiles } from '../../runtime/host-files.js';
import { isCleanAbsolutePath, renamePath, renderRenameFiles } from '../../runtime/rename-files.js';

async function temp(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-hostfiles-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function rootfsWith(dir: string, files: Record<string, string>): Promise<string> {
  const rootfs = path.join(dir, 'rootfs');
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(rootfs, p)), { recursive: true });
    await writeFile(path.join(rootfs, p), content);
  }
  await mkdir(rootfs, { recursive: true });
  return rootfs;
}

const renames = (map: Record<string, string>, values: Record<string, string> = {}) => renderRenameFiles(map, values, 'img');

test('renamePath applies renameFiles per path prefix, as Atomic did', (t) => {
  const map = renames({ '/etc/etcd': '/etc/$NAME', '/usr/local/bin/etcdctl': '/usr/local/bin/${NAME}ctl' }, { NAME: 'e1' });
  t.is(renamePath('/etc/etcd/etcd.conf', map), '/etc/e1/etcd.conf');
  t.is(renamePath('/etc/etcd', map), '/etc/e1');
  t.is(renamePath('/usr/local/bin/etcdctl', map), '/usr/local/bin/e1ctl');
  t.is(renamePath('/etc/etcdx/file', map), '/etc/etcdx/file', 'a prefix is a whole component');
  t.is(renamePath('/usr/bin/other', map), '/usr/bin/other');
});

test('renameFiles keys and rendered values must be plain absolute paths', (t) => {
  t.throws(() => renames({ '/etc/x': '/../outside' }), { message: /renameFiles\["\/etc\/x"\] renders to "\/\.\.\/outside" is not a plain absolute path/ });
  t.throws(() => renames({ '/etc/x': 'relative/path' }), { message: /not a plain absolute path/ });
  t.throws(() => renames({ '/etc/../x': '/y' }), { message: /renameFiles key "\/etc\/\.\.\/x"/ });
  t.throws(() => renames({ '/etc/x': '$DIR/x' }, { DIR: '/a/./b' }), { message: /not a plain absolute path/ });
  t.throws(() => renames({ '/etc/x': '$MISSING/x' }), { message: /variable MISSING is not set/ });
  t.false(isCleanAbsolutePath('/a//b'));
  t.true(isCleanAbsolutePath('/a/b.c/..d'));
});

test('manifest.json: the Atomic fields are validated, unknown ones ignored', (t) => {
  const manifest = parseExportsManifest(JSON.stringify({ version: '1.0', noContainerService: true, useLinks: false, renameFiles: { '/a': '/b' }, installedFilesTemplate: ['/b'] }), 'img');
  t.true(manifest.noContainerService);
  t.deepEqual(manifest.renameFiles, { '/a': '/b' });
  t.throws(() => parseExportsManifest('{"renameFiles": {"/a": 1}}', 'img'), { message: /^image img: \/exports\/manifest\.json: renameFiles\.\/a: / });
  t.throws(() => parseExportsManifest('{"noContainerService": "yes"}', 'img'), { message: /noContainerService/ });
  t.throws(() => parseExportsManifest('[1]', 'img'), { message: /not an object/ });
});

test('staging renders installedFilesTemplate files, renames, and records digests', async (t) => {
  const dir = await temp(t);
  const rootfs = await rootfsWith(dir, {
    '/exports/hostfs/etc/app/app.conf': 'name=$NAME cost=$$5\n',
    '/exports/hostfs/usr/bin/app': 'binary $NAME\n',
  });
  await symlink('app', path.join(rootfs, 'exports/hostfs/usr/bin/app-link'));
  const records = await stageHostFiles({
    rootfs,
    stageDir: path.join(dir, 'stage'),
    renames: renames({ '/etc/app': '/etc/$NAME' }, { NAME: 'c1' }),
    templates: ['/etc/c1/app.conf'],
    values: { NAME: 'c1' },
    imageName: 'img',
    hostRoot: path.join(dir, 'host'),
  });
  t.deepEqual(records.map((r) => r.path), ['/etc/c1/app.conf', '/usr/bin/app', '/usr/bin/app-link']);
  t.is(await readFile(path.join(dir, 'stage/etc/c1/app.conf'), 'utf8'), 'name=c1 cost=$5\n');
  t.is(await readFile(path.join(dir, 'stage/usr/bin/app'), 'utf8'), 'binary $NAME\n', 'not listed: copied as is');
  t.is(records[2]?.digest, 'symlink:app');
});

test('two hostfs files renamed onto one path are refused', async (t) => {
  const dir = await temp(t);
  const rootfs = await rootfsWith(dir, { '/exports/hostfs/a/x': '1', '/exports/hostfs/b/x': '2' });
  await t.throwsAsync(
    stageHostFiles({ rootfs, stageDir: path.join(dir, 'stage'), renames: renames({ '/a': '/c', '/b': '/c' }), templates: [], values: {}, imageName: 'img', hostRoot: '/' }),
    { message: /two hostfs files are installed as \/c\/x/ },
  );
});

test('switching deployments replaces unmodified files, keeps modified ones, refuses foreign ones', async (t) => {
  const dir = await temp(t);
  const hostRoot = path.join(dir, 'host');
  const stage = async (label: string, files: Record<string, string>) => {
    const rootfs = await rootfsWith(path.join(dir, label), Object.fromEntries(Object.entries(files).map(([p, c]) => [`/exports/hostfs${p}`, c])));
    const stageDir = path.join(dir, label, 'stage');
    const records = await stageHostFiles({ rootfs, stageDir, renames: new Map(), templates: [], values: {}, imageName: 'img', hostRoot });
    return { records, stageDir };
  };
  const a = await stage('a', { '/etc/one': 'a1', '/etc/two': 'a2', '/etc/gone': 'a3' });
  const b = await stage('b', { '/etc/one': 'b1', '/etc/two': 'b2', '/etc/new': 'b4' });
  const host = (p: string) => readFile(path.join(hostRoot, p), 'utf8').catch(() => undefined);

  t.deepEqual(await applyHostFiles(hostRoot, a), { kept: [] });
  await writeFile(path.join(hostRoot, 'etc/two'), 'edited');
  const toB = await applyHostFiles(hostRoot, b, a);
  t.deepEqual(toB.kept, [path.join(hostRoot, 'etc/two')]);
  t.deepEqual([await host('etc/one'), await host('etc/two'), await host('etc/gone'), await host('etc/new')], ['b1', 'edited', undefined, 'b4']);

  const back = await applyHostFiles(hostRoot, a, b);
  t.deepEqual([await host('etc/one'), await host('etc/two'), await host('etc/gone'), await host('etc/new')], ['a1', 'edited', 'a3', undefined]);
  t.deepEqual(back.kept, [path.join(hostRoot, 'etc/two')]);

  // A file the deployments do not own is never written over; nothing changes.
  await writeFile(path.join(hostRoot, 'etc/new'), 'admin');
  await t.throwsAsync(applyHostFiles(hostRoot, b, a), { message: `host file ${path.join(hostRoot, 'etc/new')} already exists and was not installed by this container` });
  t.is(await host('etc/one'), 'a1');

  const removed = await removeHostFiles(hostRoot, a.records);
  t.deepEqual(removed.kept, [path.join(hostRoot, 'etc/two')]);
  t.deepEqual([await host('etc/one'), await host('etc/two'), await host('etc/gone'), await host('etc/new')], [undefined, 'edited', undefined, 'admin']);
});

test('missing bind-mount sources get tmpfiles lines; existing ones and non-bind mounts do not', async (t) => {
  const exists = async (p: string) => p === '/etc/resolv.conf';
  const text = await missingBindSourcesTmpfiles(
    [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf' },
      { destination: '/data', source: '/var/lib/app/data', options: ['rbind', 'rw'] },
      { destination: '/again', type: 'bind', source: '/var/lib/app/data' },
    ],
    exists,
  );
  t.is(text, 'd /var/lib/app/data 0755 root root - -\n');
  t.is(await missingBindSourcesTmpfiles([{ destination: '/x', type: 'bind', source: '/etc/resolv.conf' }], exists), undefined);
  await t.throwsAsync(missingBindSourcesTmpfiles([{ destination: '/x', type: 'bind', source: '/var/a b' }], exists), { message: /"\/var\/a b" does not exist and cannot be made/ });
});

test('a host file identical to what would be written (left by an interrupted command) is taken over', async (t) => {
  const dir = await temp(t);
  const hostRoot = path.join(dir, 'host');
  const rootfs = await rootfsWith(dir, { '/exports/hostfs/etc/app.conf': 'same\n' });
  const staged = { records: await stageHostFiles({ rootfs, stageDir: path.join(dir, 'stage'), renames: new Map(), templates: [], values: {}, imageName: 'img', hostRoot }), stageDir: path.join(dir, 'stage') };
  await mkdir(path.join(hostRoot, 'etc'), { recursive: true });
  await writeFile(path.join(hostRoot, 'etc/app.conf'), 'same\n');
  t.deepEqual(await applyHostFiles(hostRoot, staged), { kept: [] });
  await writeFile(path.join(hostRoot, 'etc/app.conf'), 'different\n');
  await t.throwsAsync(applyHostFiles(hostRoot, staged), { code: 'EEXIST' });
});

test('an empty directory of hostfs is made on the host, and removed at uninstall only while still empty', async (t) => {
  const dir = await temp(t);
  const rootfs = await rootfsWith(dir, { '/exports/hostfs/usr/local/lib/file': 'x\n' });
  await mkdir(path.join(rootfs, 'exports/hostfs/usr/local/placeholder'), { recursive: true });
  await mkdir(path.join(rootfs, 'exports/hostfs/usr/local/kept'), { recursive: true });
  const hostRoot = path.join(dir, 'host');
  const stageDir = path.join(dir, 'stage');
  const records = await stageHostFiles({ rootfs, stageDir, renames: new Map(), templates: [], values: {}, imageName: 'img', hostRoot });
  t.deepEqual(records.map((r) => [r.path, r.digest === 'empty-directory']), [
    ['/usr/local/kept', true],
    ['/usr/local/lib/file', false],
    ['/usr/local/placeholder', true],
  ]);
  t.deepEqual(await applyHostFiles(hostRoot, { records, stageDir }), { kept: [] });
  t.deepEqual(await readdir(path.join(hostRoot, 'usr/local/placeholder')), []);
  // Something put into one of them since: the directory stays, and is reported.
  await writeFile(path.join(hostRoot, 'usr/local/kept/admin-file'), 'mine');
  const removed = await removeHostFiles(hostRoot, records);
  t.deepEqual(removed.kept, [path.join(hostRoot, 'usr/local/kept')]);
  t.false(existsSync(path.join(hostRoot, 'usr/local/placeholder')));
  t.false(existsSync(path.join(hostRoot, 'usr/local/lib/file')));
  t.is(await readFile(path.join(hostRoot, 'usr/local/kept/admin-file'), 'utf8'), 'mine');
});
