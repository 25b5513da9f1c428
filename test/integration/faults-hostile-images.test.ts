// Hostile images end to end: pushed to the real registry, pulled and installed through the real
// CLI. Path escapes, links out of the rootfs, device nodes, setuid files, huge headers, a
// decompression bomb, oversized manifests and configs, thousands of layers, a template that
// mounts / or asks for every capability. Nothing is written outside the repo and the
// deployment; what is too big is refused with a clear error within bounded memory and time;
// privileges need --privileged. (The tar rules themselves are table-tested in
// test/unit/tar-filter.test.ts and test/integration/layer-import.test.ts.)
import type { ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { BuiltImage } from '../../images/build/image.js';
import { buildLayer, type LayerEntry } from '../../images/build/layer.js';
import { tempDir } from '../helpers/cli.js';
import { cleanupRunc, cli, containerProblems, isolatedEnv, measuredCli, pushRawImage, serviceImage, storeProblems, type RawLayer, faultKitNeeds } from '../helpers/fault-kit.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

const prefix = `fh${process.pid}`;
let registry: RegistryServer;
let base: BuiltImage;
let outside: string;
let seq = 0;

test.before(async () => {
  registry = await startRegistry();
  base = await serviceImage('hostile-base');
  // A directory outside every root, that hostile layers aim at.
  outside = `/tmp/syscontainer-outside-${process.pid}`;
  await mkdir(outside, { recursive: true });
});

test.after.always(async () => {
  await cleanupRunc(prefix);
  await registry?.stop();
});

const baseLayers = (): RawLayer[] => base.layers.map((l) => ({ bytes: l.bytes, diffId: l.diffId, mediaType: l.descriptor.mediaType }));

async function hostile(entries: LayerEntry[][], config?: Record<string, unknown>): Promise<string> {
  const layers = [...baseLayers()];
  for (const list of entries) {
    const built = await buildLayer(list);
    layers.push({ bytes: built.bytes, diffId: built.diffId, mediaType: built.mediaType });
  }
  return (await pushRawImage(registry.host, 'faults/hostile', `t${++seq}`, layers, config ?? { Env: ['PATH=/bin'], Cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'] })).name;
}

/** Every path under `dir` (names only), for "nothing new appeared outside". */
async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String).sort();
}

async function env(t: ExecutionContext): Promise<Record<string, string>> {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'state'));
  return isolatedEnv(dir, { STATE_DIR_FOR_TEST: join(dir, 'state') });
}

const refused = test.macro(async (t, entries: LayerEntry[][], says: RegExp) => {
  const e = await env(t);
  const before = await listing(outside);
  const name = await hostile(entries);
  const pull = await cli(['pull', name], e);
  t.not(pull.exitCode, 0);
  t.regex(pull.stderr, says);
  t.regex(pull.stderr, /error: image .*faults\/hostile/);
  t.deepEqual(JSON.parse((await cli(['images', 'list', '--all', '--json'], e)).stdout), [], 'no image ref');
  t.deepEqual(await storeProblems(e), []);
  t.deepEqual(await listing(outside), before, 'nothing written outside');
  t.false(existsSync('/tmp/escaped-by-syscontainer-test'));
});

const file = (path: string, content = 'owned\n', extra: Partial<LayerEntry> = {}): LayerEntry => ({ type: 'file', path, content, mode: 0o644, ...extra }) as LayerEntry;

test('a layer entry with ".." is refused', refused, [[file('../../../../../../../../tmp/escaped-by-syscontainer-test')]], /"\.\." component/);
test('an absolute path is refused', refused, [[file('/tmp/escaped-by-syscontainer-test')]], /absolute path/);
test('a hardlink to a host path is refused', refused, [[{ type: 'hardlink', path: 'etc/shadow-copy', target: '/etc/shadow' }]], /hardlink|absolute/);
test('a hardlink escaping with ".." is refused', refused, [[{ type: 'hardlink', path: 'x', target: '../../../../etc/passwd' }]], /"\.\." component/);
test('a pax header of 5 MiB is refused', refused, [[file('big-header', 'x', { pax: { comment: 'x'.repeat(5 << 20) } })]], /pax|header|malformed|limit/i);

test('a symlink out of the rootfs and a file written through it: pull and install refused, nothing written outside', async (t) => {
  const e = await env(t);
  const before = await listing(outside);
  const name = await hostile([[{ type: 'symlink', path: 'etc/evil', target: outside }], [file('etc/evil/owned')]]);
  // Each layer is harmless on its own; the union (the image's rootfs, made at pull) is where
  // it would escape: the pull is refused and stores no image.
  const pull = await cli(['pull', name], e);
  t.not(pull.exitCode, 0);
  t.regex(pull.stderr, /error: image .*faults\/hostile.*writes into \/etc\/evil, which an earlier layer made a symlink/);
  t.deepEqual(JSON.parse((await cli(['images', 'list', '--all', '--json'], e)).stdout), [], 'no image ref');
  t.deepEqual(await listing(join(e.SYSCONTAINER_ROOT!, '.storage', 'rootfs')), [], 'no rootfs, no temporary checkout');
  const containerName = `${prefix}s`;
  const install = await cli(['install', '--system', '--name', containerName, '--set', `STATE_DIRECTORY=${e.STATE_DIR_FOR_TEST}`, name], e);
  t.not(install.exitCode, 0, install.stderr);
  t.deepEqual(await listing(outside), before, 'nothing written outside');
  t.false(existsSync(join(outside, 'owned')));
  t.deepEqual((await containerProblems(e, containerName, true)).problems, [], 'nothing of the container left');
  t.deepEqual(await storeProblems(e), []);
});

test('device nodes and FIFOs are dropped; a setuid root file is kept but noNewPrivileges is set', async (t) => {
  const e = await env(t);
  const name = await hostile([
    [
      { type: 'char-device', path: 'dev/evil-mem', major: 1, minor: 1, mode: 0o666 },
      { type: 'block-device', path: 'dev/evil-sda', major: 8, minor: 0, mode: 0o666 },
      { type: 'fifo', path: 'tmp/evil-fifo', mode: 0o666 },
      file('bin/suid-tool', '#!/bin/sh\nid\n', { mode: 0o4755, uid: 0, gid: 0 }),
    ],
  ]);
  const containerName = `${prefix}d`;
  t.teardown(async () => void (await cli(['uninstall', containerName], e)));
  const install = await cli(['install', '--system', '--name', containerName, '--set', `STATE_DIRECTORY=${e.STATE_DIR_FOR_TEST}`, name], e);
  t.is(install.exitCode, 0, install.stderr);
  const rootfs = join(e.SYSCONTAINER_ROOT!, containerName, 'rootfs');
  t.false(existsSync(join(rootfs, 'dev', 'evil-mem')));
  t.false(existsSync(join(rootfs, 'dev', 'evil-sda')));
  t.false(existsSync(join(rootfs, 'tmp', 'evil-fifo')));
  t.true(existsSync(join(rootfs, 'bin', 'suid-tool')));
  const config = JSON.parse(await readFile(join(e.SYSCONTAINER_ROOT!, containerName, 'config.json'), 'utf8')) as { process: { noNewPrivileges?: boolean } };
  t.true(config.process.noNewPrivileges, 'setuid files cannot raise privileges in the container');
  t.notRegex(install.stderr, /privilege granted/);
});

// Issue 16 set the contract: an image's own /exports declarations are granted at the CLI and
// printed, one line per privilege (Atomic's model); --confined is the operator's hard line.
test('a template that mounts / and asks for every capability: --confined refuses it naming each; otherwise every grant is printed', async (t) => {
  const e = await env(t);
  const everything = ['CAP_SYS_ADMIN', 'CAP_SYS_MODULE', 'CAP_SYS_PTRACE', 'CAP_NET_ADMIN', 'CAP_SETFCAP', 'CAP_SYS_RAWIO', 'CAP_KILL'];
  const template = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: everything, effective: everything, permitted: everything, inheritable: everything, ambient: everything },
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/host', type: 'bind', source: '/', options: ['rbind', 'rw'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }] },
  };
  const name = await hostile([[file('exports/config.json.template', JSON.stringify(template))]]);
  const containerName = `${prefix}p`;
  t.teardown(async () => void (await cli(['uninstall', containerName], e)));
  const args = ['install', '--system', '--name', containerName, '--set', `STATE_DIRECTORY=${e.STATE_DIR_FOR_TEST}`, name];
  const denied = await cli([...args.slice(0, 1), '--confined', ...args.slice(1)], e);
  t.not(denied.exitCode, 0);
  t.regex(denied.stderr, /asks for privileges beyond the default: .*capability CAP_SYS_ADMIN.*mounts the host's root filesystem at \/host read-write/);
  t.regex(denied.stderr, /confinement is enforced/);
  t.deepEqual((await containerProblems(e, containerName, true)).problems, []);
  t.false(existsSync(join(e.SYSCONTAINER_ROOT!, containerName)), 'nothing installed');

  const granted = await cli(args, e);
  t.is(granted.exitCode, 0, granted.stderr);
  t.regex(granted.stderr + granted.stdout, /privilege granted: capability CAP_SYS_ADMIN/);
  t.regex(granted.stderr + granted.stdout, /privilege granted: mounts the host's root filesystem at \/host read-write/);
  const status = await cli(['status', '--json', containerName], e);
  t.true((JSON.parse(status.stdout) as { privileges: string[] }).privileges.includes('capability CAP_SYS_ADMIN'), status.stdout);
  t.is((await cli(['uninstall', containerName], e)).exitCode, 0);
});

/** gzip of a tar holding one file of `size` zero bytes, streamed (never all in memory uncompressed). */
async function bombLayer(size: number): Promise<RawLayer> {
  const pack = tar.pack();
  const diff = createHash('sha256');
  const gzip = createGzip({ level: 9 });
  const tee = new PassThrough();
  tee.on('data', (chunk: Buffer) => diff.update(chunk));
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  pack.pipe(tee).pipe(gzip);
  const entry = pack.entry({ name: 'zeros', size, mode: 0o644 });
  const zeros = Buffer.alloc(1 << 20);
  for (let written = 0; written < size; written += zeros.length) {
    if (!entry.write(zeros)) await new Promise<void>((resolve) => entry.once('drain', () => resolve()));
  }
  entry.end(() => undefined);
  pack.finalize();
  await done;
  return { bytes: Buffer.concat(chunks), diffId: `sha256:${diff.digest('hex')}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

test('a decompression bomb is refused at the layer size bound, in bounded memory', async (t) => {
  const e = await env(t);
  const bomb = await bombLayer(512 << 20);
  t.log(`bomb: ${bomb.bytes.length} bytes of gzip → 512 MiB`);
  const { name } = await pushRawImage(registry.host, 'faults/hostile', 'bomb', [...baseLayers(), bomb]);
  const run = await measuredCli(['pull', name], { ...e, SYSCONTAINER_MAX_LAYER_BYTES: String(32 << 20) });
  t.log(`pull: ${run.ms} ms, peak RSS ${Math.round(run.peakRssKiB / 1024)} MiB`);
  t.not(run.exitCode, 0);
  t.regex(run.stderr, /uncompressed size exceeds 33554432 bytes/);
  t.true(run.peakRssKiB < 200 * 1024, `peak RSS ${run.peakRssKiB} KiB`);
  t.false(run.timedOut, 'ended by itself: refused at the bound, not after decompressing it all');
  t.deepEqual(JSON.parse((await cli(['images', 'list', '--all', '--json'], e)).stdout), []);
  t.deepEqual(await storeProblems(e), []);
});

test('oversized manifests and configs, thousands of layers: refused before anything is fetched, in bounded memory', async (t) => {
  const e = await env(t);
  const { name, manifestBytes } = await pushRawImage(registry.host, 'faults/hostile', 'huge', baseLayers());
  const manifest = JSON.parse(manifestBytes.toString()) as { config: { size: number }; layers: { digest: string; size: number; mediaType: string }[] };
  const variants: Record<string, { body: Buffer; says: RegExp }> = {
    'a config of 300 MB': { body: Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, size: 300_000_000 } })), says: /config.*(exceeds|too large|limit|bytes)/i },
    '3000 layers': { body: Buffer.from(JSON.stringify({ ...manifest, layers: Array.from({ length: 3000 }, () => manifest.layers[0]) })), says: /layers|limit|256|too many|too big/i },
    'a layer of 1 TB': { body: Buffer.from(JSON.stringify({ ...manifest, layers: manifest.layers.map((l, i) => (i === 1 ? { ...l, size: 1e12 } : l)) })), says: /size|exceeds|limit|bytes/i },
  };
  const repo = name.slice(name.indexOf('/') + 1, name.lastIndexOf(':'));
  for (const [what, variant] of Object.entries(variants)) {
    const proxy = await startFaultProxy(registry.host, (req) =>
      req.path === `/v2/${repo}/manifests/huge` ? { kind: 'replace', body: variant.body, contentType: 'application/vnd.oci.image.manifest.v1+json' } : { kind: 'pass' },
    );
    const proxied = `${proxy.host}/${repo}:huge`;
    const run = await measuredCli(['pull', proxied], e);
    await proxy.stop();
    t.log(`${what}: exit ${run.exitCode}, ${run.ms} ms, peak RSS ${Math.round(run.peakRssKiB / 1024)} MiB: ${run.stderr.split('\n').find((l) => l.startsWith('error:'))}`);
    t.not(run.exitCode, 0, what);
    t.regex(run.stderr, variant.says, what);
    t.true(run.peakRssKiB < 200 * 1024, `${what}: peak RSS ${run.peakRssKiB} KiB`);
  }
  // A manifest of hundreds of MB: the body is cut off at the manifest bound.
  const proxy = await startFaultProxy(registry.host, (req) => (req.path === `/v2/${repo}/manifests/huge` && req.method === 'GET' ? { kind: 'endless', contentType: 'application/vnd.oci.image.manifest.v1+json' } : { kind: 'pass' }));
  const run = await measuredCli(['pull', `${proxy.host}/${repo}:huge`], e);
  await proxy.stop();
  t.log(`endless manifest: ${run.ms} ms, peak RSS ${Math.round(run.peakRssKiB / 1024)} MiB`);
  t.not(run.exitCode, 0);
  t.regex(run.stderr, /manifest is larger than \d+ bytes/);
  t.true(run.peakRssKiB < 200 * 1024);
  t.deepEqual(JSON.parse((await cli(['images', 'list', '--all', '--json'], e)).stdout), []);
  t.deepEqual(await storeProblems(e), []);
});
