import { link, lstat, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import { opaque, whiteout, type LayerEntry } from '../../images/build/layer.js';
import { checkoutImage } from '../../store/content/checkout.js';
import { SyscontainerError } from '../../common/errors.js';
import { buildImage, storeImage, tempDir, tempStore, type BuiltImage } from '../helpers/store-fixtures.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.store, { tools: ['tar'] });

const layer1: LayerEntry[] = [
  { type: 'dir', path: 'etc', mode: 0o751 },
  { type: 'file', path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
  { type: 'file', path: 'etc/old.conf', content: 'old' },
  { type: 'dir', path: 'usr', mode: 0o755 },
  { type: 'dir', path: 'usr/bin', mode: 0o755 },
  { type: 'file', path: 'usr/bin/su', content: 'su-binary', mode: 0o4755 },
  { type: 'file', path: 'usr/bin/wall', content: 'wall', mode: 0o2711, gid: 5 },
  { type: 'hardlink', path: 'usr/bin/su-link', target: 'usr/bin/su' },
  { type: 'symlink', path: 'bin', target: 'usr/bin' },
  { type: 'symlink', path: 'etc/localtime', target: '/usr/share/zoneinfo/UTC' },
  { type: 'dir', path: 'tmp', mode: 0o1777 },
  { type: 'file', path: 'secret', content: 'mode zero', mode: 0 },
  { type: 'file', path: 'owned', content: 'by 1234', mode: 0o640, uid: 1234, gid: 4321 },
  { type: 'dir', path: 'opt', mode: 0o755 },
  { type: 'dir', path: 'opt/app', mode: 0o750 },
  { type: 'file', path: 'opt/app/lower-only', content: 'hidden by opaque' },
  { type: 'file', path: 'opt/app/kept-name', content: 'lower version' },
  { type: 'dir', path: 'var/cache/gone', mode: 0o755 },
  { type: 'file', path: 'var/cache/gone/file', content: 'removed with its dir' },
];
// No parent directory entries in this layer, except for the opaque directory: with an
// opaque marker and no entry, ostree recreates the directory 0755 where tar keeps the lower
// mode (Docker always writes the entry).
const layer2: LayerEntry[] = [
  whiteout('etc/old.conf'),
  whiteout('var/cache/gone'),
  { type: 'dir', path: 'opt/app', mode: 0o750 },
  opaque('opt/app'),
  { type: 'file', path: 'opt/app/kept-name', content: 'upper version' },
  { type: 'file', path: 'opt/app/new', content: 'new' },
  { type: 'file', path: 'srv/www/deep/index.html', content: '<h1>hi</h1>' },
  { type: 'file', path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/bash\n', mode: 0o644 },
];
const layer3: LayerEntry[] = [
  { type: 'file', path: 'usr/bin/tool', content: 'tool', mode: 0o6755 },
  whiteout('secret'),
  { type: 'symlink', path: 'srv/www/current', target: 'deep' },
];

async function build(): Promise<BuiltImage> {
  return buildImage([
    { entries: layer1, options: { compression: 'gzip' } },
    { entries: layer2, options: { compression: 'none' } },
    { entries: layer3, options: { compression: 'zstd' } },
  ]);
}

interface Node {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  content?: string;
  target?: string;
}

async function snapshot(root: string): Promise<Record<string, Node>> {
  const out: Record<string, Node> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      const node: Node = { type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isSymbolicLink()) {
        node.target = await readlink(join(root, path));
        node.mode = 0;
      }
      if (st.isFile()) node.content = await readFile(join(root, path), 'utf8');
      out[path] = node;
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out;
}

/** Applies the layers with GNU tar, with whiteout semantics done here, independently of ostree. */
async function reference(image: BuiltImage, specs: LayerEntry[][], dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const [index, layer] of image.layers.entries()) {
    for (const entry of specs[index]!) {
      const base = posix.basename(entry.path);
      const dir = posix.dirname(entry.path);
      if (base === '.wh..wh..opq') {
        const target = join(dest, dir);
        for (const name of await readdir(target).catch(() => [] as string[])) await rm(join(target, name), { recursive: true, force: true });
      } else if (base.startsWith('.wh.')) {
        await rm(join(dest, dir, base.slice(4)), { recursive: true, force: true });
      }
    }
    await execa('tar', ['-x', '-p', '--numeric-owner', '-f', '-', '-C', dest], { input: layer.tar });
    for (const entry of specs[index]!) {
      if (posix.basename(entry.path).startsWith('.wh.')) await rm(join(dest, entry.path), { force: true });
    }
  }
}

test('checkout equals GNU tar applying the layers with whiteouts; files are hardlinks into the repo', async (t) => {
  const { root, store } = await tempStore(t);
  const image = await build();
  await storeImage(store, 'local/checkout:1', image);
  const stored = (await store.getImage('local/checkout:1'))!;
  const dest = join(root, 'rootfs');
  await checkoutImage(store, stored, dest);

  const expectedDir = await tempDir(t, 'syscontainer-ref-');
  await reference(image, [layer1, layer2, layer3], join(expectedDir, 'rootfs'));
  const actual = await snapshot(dest);
  const expected = await snapshot(join(expectedDir, 'rootfs'));
  t.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  t.deepEqual(actual, expected);

  // Spot checks a user would make.
  t.false('etc/old.conf' in actual);
  t.false('var/cache/gone' in actual);
  t.false('opt/app/lower-only' in actual);
  t.is(actual['opt/app/kept-name']!.content, 'upper version');
  t.is(actual['usr/bin/su']!.mode, 0o4755);
  t.is(actual['usr/bin/tool']!.mode, 0o6755);
  t.is(actual['tmp']!.mode, 0o1777);
  t.deepEqual([actual['owned']!.uid, actual['owned']!.gid], [1234, 4321]);
  t.is(actual['etc/localtime']!.target, '/usr/share/zoneinfo/UTC');
  t.false(Object.keys(actual).some((path) => posix.basename(path).startsWith('.wh.')));

  const su = await stat(join(dest, 'usr/bin/su'));
  t.is((await stat(join(dest, 'usr/bin/su-link'))).ino, su.ino, 'hardlink within the layer');
  const object = store.repo.objectPath(await store.repo.fileObjectChecksum(stored.layers[0]!.commit, '/usr/bin/su'));
  t.is((await stat(object)).ino, su.ino, 'checked-out file is the repo object');
  const passwdObject = store.repo.objectPath(await store.repo.fileObjectChecksum(stored.layers[1]!.commit, '/etc/passwd'));
  t.is((await stat(passwdObject)).ino, (await stat(join(dest, 'etc/passwd'))).ino);

  t.deepEqual((await readdir(root)).sort(), ['.storage', 'rootfs'], 'no temporary directory left');
  const again = await t.throwsAsync(checkoutImage(store, stored, dest));
  t.is((again as SyscontainerError).code, 'EEXIST');
  await store.repo.fsck();
});

test('a later layer writing through an earlier symlink is refused; nothing outside is touched', async (t) => {
  const { root, store } = await tempStore(t);
  const outside = join(root, 'outside');
  await mkdir(outside);
  const image = await buildImage([
    { entries: [{ type: 'symlink', path: 'evil', target: outside }, { type: 'file', path: 'ok', content: 'ok' }] },
    { entries: [{ type: 'file', path: 'evil/pwned', content: 'x' }, whiteout('evil/victim')] },
  ]);
  await storeImage(store, 'local/evil:1', image);
  const stored = (await store.getImage('local/evil:1'))!;
  const error = await t.throwsAsync(checkoutImage(store, stored, join(root, 'rootfs')));
  t.is((error as SyscontainerError).code, 'ELAYER');
  t.regex(error!.message, /writes into \/evil, which an earlier layer made a symlink/);
  t.deepEqual(await readdir(outside), []);
  t.deepEqual((await readdir(root)).sort(), ['.storage', 'outside'], 'no rootfs and no partial temporary tree');
});

test('an image with a missing layer is ENOTFOUND and leaves nothing behind', async (t) => {
  const { root, store } = await tempStore(t);
  const image = await build();
  await storeImage(store, 'local/broken:1', image);
  const stored = (await store.getImage('local/broken:1'))!;
  stored.layers[1]!.commit = '';
  const error = await t.throwsAsync(checkoutImage(store, stored, join(root, 'rootfs')));
  t.is((error as SyscontainerError).code, 'ENOTFOUND');
  t.deepEqual((await readdir(root)).sort(), ['.storage']);
});

// The symlink check, case by case: what must be refused (it would reach outside the rootfs)
// and what must pass (ordinary images replace and re-provide symlinks all the time).
const symlinkCases: Array<[string, (outside: string) => LayerEntry[][], 'refused' | 'allowed']> = [
  ['an empty directory over a symlink', (o) => [[{ type: 'symlink', path: 'evil', target: o }], [{ type: 'dir', path: 'evil/sub' }]], 'refused'],
  ['a whiteout through a symlink', (o) => [[{ type: 'symlink', path: 'evil', target: o }], [whiteout('evil/victim')]], 'refused'],
  ['a nested path through a deep link', (o) => [[{ type: 'dir', path: 'a' }, { type: 'dir', path: 'a/b' }, { type: 'symlink', path: 'a/b/c', target: o }], [{ type: 'file', path: 'a/b/c/d/e', content: 'x' }]], 'refused'],
  ['a link from layer 2 used by layer 3', (o) => [[{ type: 'file', path: 'x', content: 'x' }], [{ type: 'symlink', path: 'evil', target: o }], [{ type: 'file', path: 'evil/pwned', content: 'x' }]], 'refused'],
  ['a file replacing a symlink', (o) => [[{ type: 'symlink', path: 'link', target: o }], [{ type: 'file', path: 'link', content: 'now a file' }]], 'allowed'],
  ['the same symlink provided again', (o) => [[{ type: 'symlink', path: 'link', target: o }], [{ type: 'symlink', path: 'link', target: o }]], 'allowed'],
  ['a symlink whited out before a directory takes its place', (o) => [[{ type: 'symlink', path: 'link', target: o }], [whiteout('link')], [{ type: 'dir', path: 'link' }, { type: 'file', path: 'link/f', content: 'x' }]], 'allowed'],
];

for (const [name, layers, verdict] of symlinkCases) {
  test(`symlink check: ${name} is ${verdict}`, async (t) => {
    const { root, store } = await tempStore(t);
    const outside = join(root, 'outside');
    await mkdir(outside);
    const image = await buildImage(layers(outside).map((entries) => ({ entries })));
    await storeImage(store, 'local/links:1', image);
    const stored = (await store.getImage('local/links:1'))!;
    const checkout = checkoutImage(store, stored, join(root, 'rootfs'));
    if (verdict === 'refused') {
      const error = await t.throwsAsync(checkout);
      t.is((error as SyscontainerError).code, 'ELAYER', error?.message);
      t.false((await readdir(root)).includes('rootfs'));
    } else {
      await t.notThrowsAsync(checkout);
    }
    t.deepEqual(await readdir(outside), [], 'nothing written outside the rootfs');
  });
}

test('layers still coming in (a pull): each is checked out when it arrives; one that fails leaves nothing', async (t) => {
  const { root, store } = await tempStore(t);
  const image = await build();
  await storeImage(store, 'local/arriving:1', image);
  const stored = (await store.getImage('local/arriving:1'))!;
  const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

  // Each later commit is given only once the layers before it are in the tree being built: a
  // checkout that waited for every commit first would never finish. The result equals the
  // plain checkout.
  const whole = join(root, 'whole');
  await checkoutImage(store, stored, whole);
  const arriving = join(root, 'arriving');
  const treeHas = async (path: string): Promise<boolean> => {
    for (const entry of await readdir(root)) {
      if (entry.startsWith('arriving.tmp-') && (await stat(join(root, entry, path)).then(() => true, () => false))) return true;
    }
    return false;
  };
  const afterTreeHas = async (path: string, commit: string): Promise<string> => {
    for (let i = 0; i < 200 && !(await treeHas(path)); i++) await later(undefined, 50);
    if (!(await treeHas(path))) throw new Error(`${path} never appeared in the tree being built`);
    return commit;
  };
  const firstLayerFile = 'usr/bin/su';
  await checkoutImage(
    store,
    { name: stored.name, layers: stored.layers.map((layer, index) => ({ digest: layer.digest, commit: index === 0 ? layer.commit : afterTreeHas(firstLayerFile, layer.commit) })) },
    arriving,
  );
  t.deepEqual(await snapshot(arriving), await snapshot(whole));

  // The last layer fails to arrive after the first ones were checked out: the error is the
  // layer's, and neither the destination nor its temporary tree is left.
  let firstDone = false;
  const failure = new SyscontainerError('EINTEGRITY', 'layer 3: digest mismatch');
  const failing = checkoutImage(
    store,
    {
      name: stored.name,
      layers: stored.layers.map((layer, index) => ({
        digest: layer.digest,
        commit: index < stored.layers.length - 1 ? Promise.resolve(layer.commit) : later(undefined, 600).then(() => {
          firstDone = true;
          throw failure;
        }),
      })),
    },
    join(root, 'failed'),
  );
  t.is(await t.throwsAsync(failing), failure);
  t.true(firstDone);
  t.deepEqual((await readdir(root)).sort(), ['.storage', 'arriving', 'whole'], 'no destination, no temporary directory');
});

// A checkout from another image's rootfs (an update): a hardlink copy of that tree and only
// the layers it lacks. The result must equal what every layer gives (GNU tar as the judge);
// a marker put into the base's tree shows whether the copy was used.
const layer3Replaced: LayerEntry[] = [
  { type: 'file', path: 'usr/bin/tool', content: 'tool, version 2', mode: 0o6755 },
  whiteout('secret'),
  { type: 'symlink', path: 'srv/www/current', target: 'deep' },
  { type: 'file', path: 'srv/www/added', content: 'added' },
  whiteout('etc/localtime'),
  opaque('usr/bin'),
  { type: 'dir', path: 'usr/bin', mode: 0o755 },
];
const layer4Added: LayerEntry[] = [{ type: 'file', path: 'etc/added-on-top', content: 'layer 4' }, whiteout('opt/app/new')];
const layer3Dropping: LayerEntry[] = [whiteout('secret'), { type: 'symlink', path: 'srv/www/current', target: 'deep' }];

const reuseCases: Array<[string, LayerEntry[][], 'copied' | 'checked out in full']> = [
  ['the top layer replaced by one holding its tree', [layer1, layer2, layer3Replaced], 'copied'],
  ['a layer added on top', [layer1, layer2, layer3, layer4Added], 'copied'],
  ['the top layer replaced by one lacking a file of it', [layer1, layer2, layer3Dropping], 'checked out in full'],
  ['the base layer replaced', [layer2, layer2, layer3], 'checked out in full'],
];

for (const [name, specs, how] of reuseCases) {
  test(`checkout from the rootfs of the running image, ${name}: equals GNU tar, ${how}`, async (t) => {
    const { root, store } = await tempStore(t);
    const compression = ['gzip', 'none', 'zstd', 'gzip'] as const;
    await storeImage(store, 'local/reuse:1', await build());
    const next = await buildImage(specs.map((entries, index) => ({ entries, options: { compression: compression[index]! } })));
    await storeImage(store, 'local/reuse:2', next);
    const v1 = (await store.getImage('local/reuse:1'))!;
    const v2 = (await store.getImage('local/reuse:2'))!;
    const base = join(root, 'base');
    await checkoutImage(store, v1, base);
    // A hardlink to a checked-out file shows the copy; what runc makes in a rootfs it runs (mount
    // points: an empty directory, an empty file) is no layer's and must not be carried over.
    await link(join(base, 'etc/passwd'), join(base, 'marker'));
    await mkdir(join(base, 'proc'));
    await writeFile(join(base, 'etc/hosts'), '');

    const dest = join(root, 'rootfs');
    await checkoutImage(store, v2, dest, { dir: base, layers: v1.layers });
    const actual = await snapshot(dest);
    t.is('marker' in actual, how === 'copied');
    delete actual.marker;
    const expectedDir = await tempDir(t, 'syscontainer-ref-');
    await reference(next, specs, join(expectedDir, 'rootfs'));
    t.deepEqual(actual, await snapshot(join(expectedDir, 'rootfs')));
    t.true('marker' in (await snapshot(base)), 'the base tree is left as it was');
    t.deepEqual((await readdir(root)).sort(), ['.storage', 'base', 'rootfs'], 'no temporary tree left');
  });
}

test('checkout from a base rootfs: a new layer writing through a symlink of the base is refused', async (t) => {
  const { root, store } = await tempStore(t);
  const outside = join(root, 'outside');
  await mkdir(outside);
  const layers = [{ entries: [{ type: 'symlink', path: 'evil', target: outside } as LayerEntry, { type: 'file', path: 'ok', content: 'ok' } as LayerEntry] }];
  await storeImage(store, 'local/evil:1', await buildImage(layers));
  await storeImage(store, 'local/evil:2', await buildImage([...layers, { entries: [{ type: 'file', path: 'evil/pwned', content: 'x' }] }]));
  const v1 = (await store.getImage('local/evil:1'))!;
  const base = join(root, 'base');
  await checkoutImage(store, v1, base);
  const error = await t.throwsAsync(checkoutImage(store, (await store.getImage('local/evil:2'))!, join(root, 'rootfs'), { dir: base, layers: v1.layers }));
  t.is((error as SyscontainerError).code, 'ELAYER');
  t.deepEqual(await readdir(outside), []);
  t.deepEqual((await readdir(root)).sort(), ['.storage', 'base', 'outside']);
});
