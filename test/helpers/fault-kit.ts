// Shared pieces of the fault and abuse suite (test/integration/faults-*.test.ts): a busybox
// service image pushed to the real registry, the CLI run in an isolated root (also killed
// with SIGKILL, or measured for peak RSS), and the checks a user would make afterwards:
// ostree fsck, every image ref complete, every container in a whole state.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa, type ResultPromise } from 'execa';
import { buildImage, sha256Digest, type BuiltImage, type LayerDefinition } from '../../images/build/image.js';
import { pushBuiltImage } from '../../images/build/push-image.js';
import { readHostBinary } from '../../images/build/host-files.js';
import { fromHostFile, rootfsEntries } from '../../images/build/rootfs-entries.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { cliPath, type CliResult } from './cli.js';
import { needs, testNeeding, toolPath, type HostNeeds } from './host-requirements.js';
import { startRegistry, type RegistryServer } from './registry-server.js';
import { stopMonitors } from './monitors.js';

/** What the fault suites need: a registry, runc (root) and GNU time for the CLI's peak memory. */
export const faultKitNeeds: HostNeeds = { root: true, tools: [...needs.registry.tools, ...needs.runc.tools, ...needs.busybox.tools, '/usr/bin/time'] };

// The hooks this kit registers are skipped with the file's tests on a host that lacks these.
const test = testNeeding(faultKitNeeds);

/** Soak mode (SYSCONTAINER_SOAK=1): many more fault points; default runs stay short. */
export const soak = process.env.SYSCONTAINER_SOAK === '1';

export const runtimePath = toolPath('runc') ?? '/usr/sbin/runc';

/** Environment that keeps the CLI's root, units, tmpfiles and registries.conf inside `dir`. */
export function isolatedEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SYSCONTAINER_ROOT: join(dir, 'root'),
    SYSCONTAINER_UNIT_DIR: join(dir, 'units'),
    SYSCONTAINER_TMPFILES_DIR: join(dir, 'tmpfiles'),
    SYSCONTAINER_REGISTRIES_CONF: '/nonexistent/registries.conf',
    SYSCONTAINER_RUNTIME: runtimePath,
    SYSCONTAINER_SETTLE_MS: '300',
    SYSCONTAINER_LOCK_WAIT_MS: '60000',
    ...extra,
  };
}

/** A long-running busybox service printing `marker`; extra layers on top (for hostile content). */
export async function serviceImage(marker: string, options: { extraLayers?: LayerDefinition[]; padding?: number } = {}): Promise<BuiltImage> {
  const files = await readHostBinary('/bin/busybox', 'install the Debian package busybox-static (scripts/setup-host.sh does)');
  const busybox = fromHostFile(files[0]!, 0o755);
  const layers: LayerDefinition[] = [
    {
      entries: rootfsEntries([
        { ...busybox, path: '/bin/busybox' },
        ...['sh', 'sleep', 'cat', 'echo', 'ls'].map((applet) => ({ type: 'symlink' as const, path: `/bin/${applet}`, target: 'busybox' })),
        { type: 'file', path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
        { type: 'file', path: '/etc/group', content: 'root:x:0:\n', mode: 0o644 },
        { type: 'dir', path: '/data', mode: 0o755 },
        { type: 'dir', path: '/tmp', mode: 0o1777 },
      ]),
    },
    {
      entries: rootfsEntries([
        { type: 'file', path: '/etc/marker', content: `${marker}\n`, mode: 0o644 },
        // Incompressible padding so a pull takes long enough to be cut at many points.
        ...(options.padding ? [{ type: 'file' as const, path: '/var/padding', content: pseudoRandom(options.padding, marker), mode: 0o644 }] : []),
      ]),
    },
    ...(options.extraLayers ?? []),
  ];
  return buildImage({
    config: {
      Env: ['PATH=/bin'],
      Cmd: ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`],
      Volumes: { '/data': {} },
    },
    layers,
  });
}

/** Deterministic incompressible bytes. */
export function pseudoRandom(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let x = 2166136261;
  for (const c of seed) x = Math.imul(x ^ c.charCodeAt(0), 16777619);
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function pushImage(registryHost: string, repository: string, tag: string, built: BuiltImage): Promise<string> {
  await pushBuiltImage(new RegistryPush({ registry: registryHost, conf: defaultRegistriesConf() }), repository, tag, built);
  return `${registryHost}/${repository}:${tag}`;
}

export interface RawLayer {
  bytes: Buffer;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  mediaType: string;
}

/** Pushes an image made of raw (possibly hostile) layer blobs and a config; returns its name and manifest. */
export async function pushRawImage(
  registryHost: string,
  repository: string,
  tag: string,
  layers: RawLayer[],
  config: Record<string, unknown> = { Cmd: ['/bin/sh'] },
): Promise<{ name: string; manifestBytes: Buffer }> {
  const push = new RegistryPush({ registry: registryHost, conf: defaultRegistriesConf() });
  const configBytes = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }),
  );
  const descriptor = (bytes: Buffer, mediaType: string) => ({ mediaType, digest: sha256Digest(bytes), size: bytes.length });
  for (const layer of layers) await push.uploadBlob(repository, descriptor(layer.bytes, layer.mediaType), layer.bytes);
  const configDescriptor = descriptor(configBytes, 'application/vnd.oci.image.config.v1+json');
  await push.uploadBlob(repository, configDescriptor, configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDescriptor,
      layers: layers.map((l) => descriptor(l.bytes, l.mediaType)),
    }),
  );
  await push.putManifest(repository, tag, manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
  return { name: `${registryHost}/${repository}:${tag}`, manifestBytes };
}

export async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const result = await execa(process.execPath, [cliPath, ...args], { reject: false, env, stdin: 'ignore' });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the CLI without waiting (to race it or kill it). */
export function spawnCli(args: string[], env: Record<string, string>): ResultPromise<{ reject: false; env: Record<string, string>; stdin: 'ignore' }> {
  return execa(process.execPath, [cliPath, ...args], { reject: false, env, stdin: 'ignore' });
}

/** Runs the CLI, SIGKILLs it after `afterMs` (if still running). Resolves whether it was killed. */
export async function runAndKill(args: string[], env: Record<string, string>, afterMs: number): Promise<{ killed: boolean; result: CliResult }> {
  const child = spawnCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
  const result = await child;
  clearTimeout(timer);
  // Children it started (ostree, runc) are not killed with it: give them a moment to end.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return { killed: result.signal === 'SIGKILL', result: { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr } };
}

/** Runs the CLI under GNU time: the result plus peak RSS (KiB) and wall time (ms). */
export async function measuredCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult & { peakRssKiB: number; ms: number; timedOut: boolean }> {
  const began = Date.now();
  const result = await execa('/usr/bin/time', ['-f', 'PEAK_RSS_KIB=%M', process.execPath, cliPath, ...args], { reject: false, env, stdin: 'ignore', timeout: timeoutMs });
  const ms = Date.now() - began;
  const match = /PEAK_RSS_KIB=(\d+)\s*$/.exec(result.stderr);
  if (result.timedOut) return { exitCode: -1, stdout: result.stdout, stderr: `${result.stderr}\n(killed: still running after ${timeoutMs} ms)`, peakRssKiB: Number(match?.[1] ?? 0), ms, timedOut: true };
  if (!match) throw new Error(`no peak RSS in: ${result.stderr.slice(-300)}`);
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr.replace(/(Command exited with non-zero status \d+\n)?PEAK_RSS_KIB=\d+\s*$/, '').trim(), peakRssKiB: Number(match[1]), ms, timedOut: false };
}

/**
 * What is wrong with the store: `ostree fsck` failing, an image ref that cannot be read, or an
 * image whose content does not verify. Empty when sound.
 */
export async function storeProblems(env: Record<string, string>): Promise<string[]> {
  const repo = join(env.SYSCONTAINER_ROOT!, '.storage', 'ostree');
  if (!existsSync(join(repo, 'config'))) return [];
  const problems: string[] = [];
  const fsck = await execa('ostree', ['fsck', `--repo=${repo}`], { reject: false });
  if (fsck.exitCode !== 0) problems.push(`ostree fsck: ${(fsck.stderr || fsck.stdout).split('\n').slice(-3).join(' | ')}`);
  const listed = await cli(['images', 'list', '--all', '--json'], env);
  if (listed.exitCode !== 0) return [...problems, `images list: ${listed.stderr}`];
  for (const image of JSON.parse(listed.stdout) as { name: string; broken?: boolean }[]) {
    if (image.broken) {
      problems.push(`image ${image.name}: ref to content that cannot be read`);
      continue;
    }
    const verify = await cli(['images', 'verify', image.name], env);
    if (verify.exitCode !== 0) problems.push(`images verify ${image.name}: ${verify.stdout} ${verify.stderr}`.trim());
  }
  return problems;
}

async function isSymlink(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Whether slot dir `dir` holds a complete deployment (an info record that parses). */
async function completeSlot(dir: string): Promise<boolean> {
  try {
    const info = JSON.parse(await readFile(join(dir, 'info'), 'utf8')) as { version?: unknown; name?: unknown };
    return info.version === 1 && typeof info.name === 'string';
  } catch {
    return false;
  }
}

export interface ContainerState {
  /** Slot ROOT/NAME points at (undefined: not installed). */
  active: 0 | 1 | undefined;
  /** Revision of the active deployment. */
  revision: number | undefined;
  unitPresent: boolean;
}

/**
 * Checks container `name` against what must hold at every instant, even right after a
 * kill -9: ROOT/NAME, when present, is a symlink to NAME.0 or NAME.1 holding an info record;
 * a unit file, when present, is the unit of a complete slot. With `settled` (after a command
 * ran to its end), also: unit present iff deployment active, and it is the active slot's unit.
 */
export async function containerProblems(env: Record<string, string>, name: string, settled: boolean): Promise<{ problems: string[]; state: ContainerState }> {
  const root = env.SYSCONTAINER_ROOT!;
  const problems: string[] = [];
  const link = join(root, name);
  const unit = join(env.SYSCONTAINER_UNIT_DIR!, `${name}.service`);
  let active: 0 | 1 | undefined;
  let revision: number | undefined;
  if (existsSync(link) || (await isSymlink(link))) {
    if (!(await isSymlink(link))) problems.push(`${link} is not a symlink`);
    else {
      const target = await readlink(link);
      if (target !== `${name}.0` && target !== `${name}.1`) problems.push(`${link} points at ${target}`);
      else if (!(await completeSlot(join(root, target)))) problems.push(`${link} points at ${target}, which has no info record`);
      else {
        active = target.endsWith('.0') ? 0 : 1;
        revision = (JSON.parse(await readFile(join(root, target, 'info'), 'utf8')) as { revision: number }).revision;
        if (!existsSync(join(root, target, 'rootfs', 'bin', 'busybox'))) problems.push(`${target}: rootfs incomplete`);
      }
    }
  }
  const unitPresent = existsSync(unit);
  if (unitPresent) {
    const text = readFileSync(unit, 'utf8');
    const slots: string[] = [];
    for (const slot of [0, 1]) {
      const dir = join(root, `${name}.${slot}`);
      if ((await completeSlot(dir)) && (await readFile(join(dir, `${name}.service`), 'utf8').catch(() => '')) === text) slots.push(String(slot));
    }
    if (slots.length === 0) problems.push(`unit ${name}.service matches no complete deployment`);
  }
  if (settled) {
    if (unitPresent !== (active !== undefined)) problems.push(`unit ${unitPresent ? 'present' : 'missing'} but deployment ${active === undefined ? 'missing' : 'active'}`);
    if (unitPresent && active !== undefined) {
      const want = await readFile(join(root, `${name}.${active}`, `${name}.service`), 'utf8').catch(() => '');
      if (readFileSync(unit, 'utf8') !== want) problems.push(`unit ${name}.service is not the active deployment's`);
    }
    if (active === undefined) {
      const left = (await readdir(root).catch(() => [] as string[])).filter((e) => e === name || e.startsWith(`${name}.`));
      if (left.length > 0) problems.push(`not installed, yet left: ${left.join(', ')}`);
    }
  }
  return { problems, state: { active, revision, unitPresent } };
}

/** Removes runc containers the tests named `prefix…` (the CLI uses runc's default state root), their monitors first. */
export async function cleanupRunc(prefix: string): Promise<void> {
  await stopMonitors({ named: prefix });
  const listed = await execa(runtimePath, ['list', '--format', 'json'], { reject: false });
  const all = (JSON.parse(listed.stdout || 'null') as { id: string }[] | null) ?? [];
  for (const { id } of all) if (id.startsWith(prefix)) await execa(runtimePath, ['delete', '--force', id], { reject: false });
  for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const slice = join('/sys/fs/cgroup', hierarchy, 'system.slice');
    for (const entry of await readdir(slice).catch(() => [] as string[])) {
      if (!entry.startsWith(prefix)) continue;
      await execa('rmdir', [join(slice, entry, 'container'), join(slice, entry)], { reject: false });
    }
  }
}

/** Tallies for t.log: faults injected, survived (state sound afterwards), data lost. */
export class FaultTally {
  injected = 0;
  survived = 0;
  dataLost = 0;
  readonly notes: string[] = [];

  report(t: ExecutionContext, what: string): void {
    t.log(`${what}: faults injected ${this.injected}, survived ${this.survived}, data lost ${this.dataLost}`);
    for (const note of this.notes.slice(0, 10)) t.log(`  ${note}`);
  }
}

/**
 * The setup both kill -9 and concurrency suites share: a real registry (started before the
 * file's tests, stopped after them, with runc containers named `runcPrefix…` cleaned up)
 * holding the service image as REPOSITORY:v1 and REPOSITORY:v2. The returned references are
 * filled in once the `before` hook has run.
 */
export function serviceImagesInRegistry(repository: string, runcPrefix: string): { v1: string; v2: string } {
  const images = { v1: '', v2: '' };
  let registry: RegistryServer | undefined;
  test.before(async () => {
    registry = await startRegistry();
    images.v1 = await pushImage(registry.host, repository, 'v1', await serviceImage('v1', { padding: 4 << 20 }));
    images.v2 = await pushImage(registry.host, repository, 'v2', await serviceImage('v2', { padding: 4 << 20 }));
  });
  test.after.always(async () => {
    // The registry is stopped even when the runc clean-up fails (it was left running otherwise).
    try {
      await cleanupRunc(runcPrefix);
    } finally {
      await registry?.stop();
    }
  });
  return images;
}
