// `syscontainer pull` end to end: test images built here, pushed to a real docker-registry on
// loopback, pulled by the real CLI into a real ostree repo, and what is stored checked
// against what was pushed — refs and metadata in Atomic's layout, and the checked-out rootfs.
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage, type BuiltImage, type BuiltIndex } from '../../images/build/image.js';
import { randomBytes } from 'node:crypto';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import { pushBuiltImage } from '../../images/build/push-image.js';
import { checkoutImage, ImageStore, imageRootfsDir } from '../../store/index.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';
import { buildFixture, fixture, fixtureNames, multiPlatformFixture, multiPlatformTags, pushFixtures, rootfsMismatches, type FixtureName } from '../helpers/fixtures.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry);

let registry: RegistryServer;
let pushed: Map<string, { built: BuiltImage | BuiltIndex }>;

test.before(async () => {
  registry = await startRegistry();
  const push = new RegistryPush({ registry: registry.host, conf: defaultRegistriesConf() });
  pushed = await pushFixtures(push, 'fixtures');
});

test.after.always(async () => {
  await registry?.stop();
});

const repoOf = (root: string) => join(root, '.storage', 'ostree');

async function ostree(root: string, ...args: string[]): Promise<string> {
  return (await execa('ostree', [...args, `--repo=${repoOf(root)}`])).stdout;
}

/** Atomic's encoding of an image name into a ref, written independently of the store's code. */
function atomicRef(name: string): string {
  return `ociimage/${name.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
}

async function metadataKey(root: string, ref: string, key: string): Promise<string> {
  const text = await ostree(root, 'show', `--print-metadata-key=${key}`, ref);
  // GVariant text form of a string: 'value' (with \' escapes) — enough for digests and numbers.
  return text.trim().replace(/^'(.*)'$/s, '$1').replace(/\\'/g, "'");
}

for (const name of fixtureNames) {
  test(`pull ${name}: refs, metadata and rootfs match what was pushed`, async (t) => {
    const root = await tempDir(t);
    const built = pushed.get(name)!.built as BuiltImage;
    const reference = `${registry.host}/fixtures/${name}:latest`;

    const result = await runCli(['--root', root, 'pull', reference]);
    t.is(result.exitCode, 0, result.stderr);
    t.is(result.stdout.trim(), built.manifestDigest, 'prints the image digest');

    const refs = (await ostree(root, 'refs')).split('\n');
    const imageRef = atomicRef(reference);
    t.true(refs.includes(imageRef), `image ref ${imageRef} in ${refs.join(' ')}`);
    t.is(await metadataKey(root, imageRef, 'docker.digest'), built.manifestDigest);
    t.is(await ostree(root, 'cat', imageRef, '/manifest.json'), built.manifestBytes.toString('utf8'));
    const configRef = `ociimage/${built.configDigest.slice(7)}`;
    t.is(await ostree(root, 'cat', configRef, '/content'), built.configBytes.toString('utf8'));
    for (const layer of built.layers) {
      const ref = `ociimage/${layer.descriptor.digest.slice(7)}`;
      t.true(refs.includes(ref), `layer ref ${ref}`);
      t.is(await metadataKey(root, ref, 'docker.size'), String(layer.descriptor.size));
      t.is(await metadataKey(root, ref, 'docker.uncompressed_digest'), layer.diffId);
    }

    const store = new ImageStore(root);
    const image = await store.getImage(reference);
    t.truthy(image);
    // The pull made the image's rootfs (shared by its deployments): it is what the layers say.
    const rootfs = imageRootfsDir(root, image!.configDigest);
    t.deepEqual(await rootfsMismatches(rootfs, fixture(name as FixtureName).expect), []);
    await execa('ostree', ['fsck', `--repo=${repoOf(root)}`]);
  });
}

test('a second pull of an unchanged image downloads nothing', async (t) => {
  const root = await tempDir(t);
  const reference = `${registry.host}/fixtures/layered:latest`;
  t.is((await runCli(['--root', root, 'pull', reference])).exitCode, 0);
  const again = await runCli(['--root', root, 'pull', reference]);
  t.is(again.exitCode, 0, again.stderr);
  t.regex(again.stderr, /0 layer\(s\) fetched, 3 already present/);
});

test('layers shared with a stored image are not downloaded again', async (t) => {
  const root = await tempDir(t);
  const base = await buildFixture('layered');
  const derived = await buildImage({ ...fixture('layered').definition, layers: [...fixture('layered').definition.layers, { entries: [{ type: 'file', path: 'extra', content: 'x' }] }] });
  const push = new RegistryPush({ registry: registry.host, conf: defaultRegistriesConf() });
  await pushBuiltImage(push, 'shared/base', 'latest', base);
  await pushBuiltImage(push, 'shared/derived', 'latest', derived);
  t.is((await runCli(['--root', root, 'pull', `${registry.host}/shared/base`])).exitCode, 0);
  const second = await runCli(['--root', root, 'pull', `${registry.host}/shared/derived`]);
  t.is(second.exitCode, 0, second.stderr);
  t.regex(second.stderr, /1 layer\(s\) fetched, 3 already present/);
});

test('an index: the host platform by default, --platform picks another', async (t) => {
  const root = await tempDir(t);
  const index = pushed.get(multiPlatformTags.oci)!.built as BuiltIndex;
  const platforms = multiPlatformFixture('oci');
  const reference = `${registry.host}/fixtures/${multiPlatformTags.oci}:latest`;
  const arm = await runCli(['--root', root, 'pull', '--platform', 'linux/arm64', reference]);
  t.is(arm.exitCode, 0, arm.stderr);
  const armDigest = index.index.manifests.find((m) => m.platform?.architecture === 'arm64')!.digest;
  t.is(arm.stdout.trim(), armDigest);
  const store = new ImageStore(root);
  const image = await store.getImage(reference);
  t.is(image?.config.architecture, 'arm64');
  const rootfs = join(root, 'rootfs-arm64');
  await checkoutImage(store, image!, rootfs);
  t.deepEqual(await rootfsMismatches(rootfs, platforms.find((p) => p.platform.architecture === 'arm64')!.expect), []);

  const none = await runCli(['--root', root, 'pull', '--platform', 'linux/s390x', reference]);
  t.is(none.exitCode, 1);
  t.regex(none.stderr, /s390x/);
});

test('a Docker manifest list is resolved like an OCI index', async (t) => {
  const root = await tempDir(t);
  const reference = `${registry.host}/fixtures/${multiPlatformTags.docker}:latest`;
  const result = await runCli(['--root', root, 'pull', '--platform', 'linux/amd64', reference]);
  t.is(result.exitCode, 0, result.stderr);
  const index = pushed.get(multiPlatformTags.docker)!.built as BuiltIndex;
  t.is(result.stdout.trim(), index.index.manifests.find((m) => m.platform?.architecture === 'amd64')!.digest);
});

test('short names resolve through unqualified-search-registries', async (t) => {
  const root = await tempDir(t);
  const conf = join(root, 'registries.conf');
  await writeFile(conf, `unqualified-search-registries = ["${registry.host}"]\n`);
  const result = await runCli(['--root', root, '--registries-conf', conf, 'pull', 'fixtures/layered']);
  t.is(result.exitCode, 0, result.stderr);
  const list = await runCli(['--root', root, 'images', 'list', '--json']);
  const names = (JSON.parse(list.stdout) as { name: string }[]).map((image) => image.name);
  t.deepEqual(names, [`${registry.host}/fixtures/layered:latest`]);
});

test('pull oci:DIR reads an OCI layout without a registry', async (t) => {
  const root = await tempDir(t);
  const layout = join(root, 'layout');
  const built = await buildFixture('links');
  await writeOciLayout(layout, [{ image: built, tag: 'v1' }]);
  const result = await runCli(['--root', root, 'pull', `oci:${layout}:v1`]);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout.trim(), built.manifestDigest);
  const image = await new ImageStore(root).getImage('localhost/layout:v1');
  t.is(image?.manifestDigest, built.manifestDigest);
});

test('images list, info, verify, delete and prune', async (t) => {
  const root = await tempDir(t);
  const reference = `${registry.host}/fixtures/layered:latest`;
  t.is((await runCli(['--root', root, 'pull', reference])).exitCode, 0);
  const built = pushed.get('layered')!.built as BuiltImage;

  const table = await runCli(['--root', root, 'images', 'list']);
  t.is(table.exitCode, 0, table.stderr);
  const [header, row] = table.stdout.split('\n');
  t.regex(header!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  t.regex(row!, new RegExp(`^${registry.host}/fixtures/layered\\s+latest\\s+${built.configDigest.slice(7, 19)}\\s+\\d+ years ago\\s+\\d`));

  const info = await runCli(['--root', root, 'images', 'info', '--json', 'fixtures/layered']);
  t.is(info.exitCode, 0, info.stderr);
  const details = JSON.parse(info.stdout) as { layers: unknown[]; platform: string; created: string };
  t.is(details.layers.length, 3);
  t.is(details.created, '1970-01-01T00:00:00Z', 'CREATED comes from the image config');

  const verify = await runCli(['--root', root, 'images', 'verify', reference]);
  t.is(verify.exitCode, 0, verify.stdout + verify.stderr);

  // Damage a stored object: verify must notice.
  const layerRef = `ociimage/${built.layers[0]!.descriptor.digest.slice(7)}`;
  const files = await ostree(root, 'ls', '-R', '-C', layerRef, '/etc');
  const checksum = /([a-f0-9]{64})\s+\/etc\/os-release/.exec(files)?.[1];
  t.truthy(checksum, files);
  const object = join(repoOf(root), 'objects', checksum!.slice(0, 2), `${checksum!.slice(2)}.file`);
  await execa('sh', ['-c', `chmod u+w "${object}" && printf X >> "${object}"`]);
  const damaged = await runCli(['--root', root, 'images', 'verify', reference]);
  t.is(damaged.exitCode, 1);
  t.regex(damaged.stdout, /corrupt|fsck|checksum|mismatch/i);

  const removed = await runCli(['--root', root, 'images', 'delete', reference]);
  t.is(removed.exitCode, 0, removed.stderr);
  const empty = await runCli(['--root', root, 'images', 'list', '--json']);
  t.deepEqual(JSON.parse(empty.stdout), []);
  const prune = await runCli(['--root', root, 'images', 'prune']);
  t.is(prune.exitCode, 0, prune.stderr);
  t.regex(prune.stdout, /removed 4 unused blob/);
  t.false((await ostree(root, 'refs')).includes('ociimage/'));
});

test('kill -9 at random points never leaves an image ref to incomplete content; the next pull completes', async (t) => {
  const root = await tempDir(t);
  // Incompressible layers so the pull takes long enough to be interrupted.
  const big = await buildImage({
    config: { Cmd: ['/bin/true'] },
    layers: Array.from({ length: 3 }, (_, i) => ({
      entries: Array.from({ length: 40 }, (_, j) => ({ type: 'file' as const, path: `l${i}/f${j}`, content: randomBytes(256 * 1024) })),
    })),
  });
  const push = new RegistryPush({ registry: registry.host, conf: defaultRegistriesConf() });
  await pushBuiltImage(push, 'crash/big', 'latest', big);
  const reference = `${registry.host}/crash/big:latest`;
  const imageRef = atomicRef(reference);
  let interrupted = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    const child = execa(process.execPath, [cliPath, '--root', root, 'pull', reference], { reject: false, env: { SYSCONTAINER_REGISTRIES_CONF: '/nonexistent' } });
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 700));
    child.kill('SIGKILL');
    const result = await child;
    if (result.exitCode !== 0) interrupted++;
    const refs = await ostree(root, 'refs').catch(() => '');
    if (refs.includes(imageRef)) {
      // Only a finished pull may have written the image ref, and then everything is there.
      for (const layer of big.layers) t.true(refs.includes(layer.descriptor.digest.slice(7)));
    }
    await execa('ostree', ['fsck', `--repo=${repoOf(root)}`]).catch((error: { stderr?: string; message: string }) => {
      // A repo killed before it was fully created is not a repo yet; anything else must be clean.
      if (!String(error.stderr ?? error.message).includes('opening repo')) throw error;
    });
  }
  t.log(`${interrupted} of 6 pulls interrupted by kill -9`);
  const final = await runCli(['--root', root, 'pull', reference]);
  t.is(final.exitCode, 0, final.stderr);
  t.is(final.stdout.trim(), big.manifestDigest);
  const verify = await runCli(['--root', root, 'images', 'verify', reference]);
  t.is(verify.exitCode, 0, verify.stdout);
});

test('images list --all also shows an image whose stored content cannot be read', async (t) => {
  const root = await tempDir(t);
  const reference = `${registry.host}/fixtures/layered:latest`;
  t.is((await runCli(['--root', root, 'pull', reference])).exitCode, 0);
  const built = pushed.get('layered')!.built as BuiltImage;
  await ostree(root, 'refs', '--delete', `ociimage/${built.configDigest.slice(7)}`);

  const plain = await runCli(['--root', root, 'images', 'list', '--json']);
  t.deepEqual(JSON.parse(plain.stdout), []);
  const all = await runCli(['--root', root, 'images', 'list', '--all', '--json']);
  t.deepEqual(JSON.parse(all.stdout), [{ name: reference, broken: true }]);
  const table = await runCli(['--root', root, 'images', 'list', '--all']);
  t.regex(table.stdout, /fixtures\/layered\s+latest\s+<broken>/);
  t.regex(table.stderr, /1 image\(s\) cannot be read/);
});
