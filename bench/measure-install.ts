// Install: what it costs to turn a stored image into a container ready to start.
// syscontainer: `install --system --no-start` (a deployment linking the image's rootfs, which
// the pull checked out once for all its containers, plus config.json and the unit file);
// podman: `podman create` (its container layer and config; podman unpacked the layers at pull).
// Both images' unpacked trees are counted in the store sizes of the disk measurement. The
// large image is pulled once into each tool's storage first (untimed); each run installs a new
// container and the next run's cleanup removes it (untimed). Extra disk: du of the whole
// storage after minus before, in one du over the whole tree so that hardlinks into the repo
// count once. Then, untimed, one more install under strace: which processes an install runs
// (ostree calls by subcommand).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext, Measurement } from './context.js';
import { expectOutput } from './measure-cold-pull.js';
import { alternate, measureCommand, type Contender } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import {
  diskUsage,
  freshDir,
  freshHostFileDirs,
  podmanCreate,
  podmanPull,
  podmanRemove,
  removeTree,
  syscontainer,
  syscontainerInstall,
  syscontainerPull,
  type DiskUsage,
  type HostFileDirs,
} from './tools.js';

const run = promisify(execFile);
const KiB = 1024;

/**
 * Runs one install under strace (untimed) and counts the programs it executed: ostree by
 * subcommand, others by name. The node process itself is not counted.
 */
async function processesOfInstall(ctx: BenchContext, root: string, dirs: HostFileDirs, name: string, ref: string): Promise<{ total: number; byProgram: Record<string, number> }> {
  const traceFile = join(ctx.workDir, 'install.strace');
  const spec = syscontainerInstall(ctx.cli, root, dirs, name, ref);
  await run('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', traceFile, ...spec.argv], { env: { ...process.env, ...spec.env } });
  const byProgram: Record<string, number> = {};
  let total = 0;
  for (const line of (await readFile(traceFile, 'utf8')).split('\n')) {
    // A failed execve (a PATH lookup miss) ends in "= -1 ENOENT …". One that another process
    // interrupted is split into "<unfinished ...>" (with the argv: counted) and "resumed" lines.
    const match = /execve\("[^"]*\/([^/"]+)", \[(?:"[^"]*", )?"?([^",\]]*)/.exec(line);
    if (!match || / = -1 /.test(line)) continue;
    const program = match[1] as string;
    // The CLI itself: its script, env running node from its #! line, node.
    if (program === 'node' || program === 'strace' || program === 'env' || program === 'syscontainer.mjs') continue;
    const key = program === 'ostree' ? `ostree ${match[2]}` : program;
    total++;
    byProgram[key] = (byProgram[key] ?? 0) + 1;
  }
  await rm(traceFile, { force: true });
  return { total, byProgram };
}

/** after − before, per field. */
function growth(before: DiskUsage, after: DiskUsage): DiskUsage {
  return { apparent: after.apparent - before.apparent, allocated: after.allocated - before.allocated };
}

export const install: Measurement = {
  name: 'install',
  async run(ctx: BenchContext) {
    const { large } = ctx.images;
    const ref = ctx.refs.large;
    // runc's container ids are host-wide: a tag keeps two benches (or a user's bench-0) apart.
    const tag = randomBytes(3).toString('hex');
    const nameOf = (run: number) => `bench-${tag}-${run}`;
    ctx.log(`install of ${ref} (pulled first, untimed), ${ctx.runs} runs each`);
    const sysRoot = await freshDir(ctx.workDir, 'install-syscontainer');
    const hostDirs = await freshHostFileDirs(ctx.workDir, 'install-hostfiles');
    const podRoot = await freshDir(ctx.workDir, 'install-podman');
    const podStorage = join(podRoot, 'storage');
    try {
      expectOutput('syscontainer pull', large.manifestDigest)(await measureCommand(syscontainerPull(ctx.cli, sysRoot, ref), ctx.workDir));
      expectOutput('podman pull', large.configDigest.slice('sha256:'.length))(await measureCommand(podmanPull(ctx.podmanDriver, podRoot, ref), ctx.workDir));

      const extra: Record<string, DiskUsage[]> = { syscontainer: [], podman: [] };
      let before: DiskUsage = { apparent: NaN, allocated: NaN };
      const contenders: Contender[] = [
        {
          name: 'syscontainer',
          async prepare() {
            await run('sync');
            before = await diskUsage(sysRoot);
          },
          command: (run) => syscontainerInstall(ctx.cli, sysRoot, hostDirs, nameOf(run), ref),
          async inspect(run) {
            // Installed, not started: the deployment's rootfs, config and the unit are there.
            await access(join(sysRoot, nameOf(run), 'rootfs', 'bin', 'busybox'));
            await access(join(sysRoot, nameOf(run), 'config.json'));
            await access(join(hostDirs.unitDir, `${nameOf(run)}.service`));
            extra.syscontainer!.push(growth(before, await diskUsage(sysRoot)));
          },
          async cleanup(run) {
            await measureCommand(syscontainer(ctx.cli, sysRoot, hostDirs, ['uninstall', nameOf(run)]), ctx.workDir).catch(() => undefined);
          },
        },
        {
          name: 'podman',
          async prepare() {
            await run('sync');
            before = await diskUsage(podStorage);
          },
          command: (run) => podmanCreate(ctx.podmanDriver, podRoot, nameOf(run), ref),
          async inspect(_run, sample) {
            if (!/^[0-9a-f]{64}$/.test(sample.stdout.trim())) throw new Error(`podman create: printed ${JSON.stringify(sample.stdout.trim())}, expected a container id`);
            extra.podman!.push(growth(before, await diskUsage(podStorage)));
          },
          async cleanup(run) {
            await podmanRemove(ctx.podmanDriver, podRoot, nameOf(run));
          },
        },
      ];
      const samples = await alternate(contenders, ctx.runs, ctx.workDir, ctx.log);
      const pick = (name: string, value: (s: (typeof samples)[string][number]) => number) => figure((samples[name] ?? []).map(value));
      const grown = (name: string, field: keyof DiskUsage) => figure((extra[name] ?? []).map((d) => d[field] / MiB));
      const kib = (name: string, field: keyof DiskUsage) => `${name} +${(((grown(name, field).median) * MiB) / KiB).toFixed(0)} KiB`;
      const row = (measurement: string, unit: Row['unit'], syscontainerFigure: Row['syscontainer'], podmanFigure: Row['podman'], note: string): Row => ({
        section: 'install',
        measurement,
        unit,
        syscontainer: syscontainerFigure,
        podman: podmanFigure,
        note,
      });
      const traced = nameOf(ctx.runs);
      const processes = await processesOfInstall(ctx, sysRoot, hostDirs, traced, ref);
      await measureCommand(syscontainer(ctx.cli, sysRoot, hostDirs, ['uninstall', traced]), ctx.workDir);
      return [
        row('install, large image', 's', pick('syscontainer', (s) => s.wall), pick('podman', (s) => s.wall), 'install --system --no-start vs podman create; image pulled before'),
        row('install CPU user+sys', 's', pick('syscontainer', (s) => s.user + s.sys), pick('podman', (s) => s.user + s.sys), 'all processes of the tree'),
        row('install extra disk, du -sb', 'MiB', grown('syscontainer', 'apparent'), grown('podman', 'apparent'), `${kib('syscontainer', 'apparent')}, ${kib('podman', 'apparent')}; whole storage, hardlinks once`),
        row('install extra disk, allocated', 'MiB', grown('syscontainer', 'allocated'), grown('podman', 'allocated'), `${kib('syscontainer', 'allocated')}, ${kib('podman', 'allocated')}; du -s -B1`),
        {
          section: 'install',
          measurement: 'processes run by one install',
          unit: 'count',
          syscontainer: figure([processes.total]),
          note: Object.entries(processes.byProgram)
            .sort(([, a], [, b]) => b - a)
            .map(([program, n]) => `${program} x${n}`)
            .join(', '),
        },
      ];
    } finally {
      // A run that failed before its cleanup leaves nothing running: uninstall never started
      // anything here, and podman's containers go with its storage.
      await removeTree(sysRoot);
      await removeTree(podRoot);
      await removeTree(join(hostDirs.unitDir, '..'));
    }
  },
};
