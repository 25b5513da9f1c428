// Warm re-pull: the large image is already stored (pulled once, untimed) and unchanged in the
// registry; each tool pulls it again into the same storage. skopeo copies into its existing
// OCI dir (it skips blobs the dir has) as the floor. Then, for syscontainer alone, what a
// re-pull consists of: the CLI's start (`--help`), and how many ostree processes it runs
// (counted once under strace, untimed) at what cost each (`ostree refs`).

const run = promisify(execFile);
const breakdownSection = 'syscontainer warm re-pull: where the time goes';

/** Runs one untimed pull under strace and counts the ostree processes it started, by subcommand. */
async function ostreeCalls(ctx: BenchContext, root: string): Promise<{ total: number; bySubcommand: Record<string, number> }> {
  const traceFile = join(ctx.workDir, 'warm-pull.strace');
  const spec = syscontainerPull(ctx.cli, root, ctx.refs.large);
  await run('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', traceFile, ...spec.argv], { env: { ...process.env, ...spec.env } });
  const bySubcommand: Record<string, number> = {};
  let total = 0;
  for (const line of (await readFile(traceFile, 'utf8')).split('\n')) {
    const match = /execve\("[^"]*\/ostree", \["ostree", "([^"]*)"/.exec(line);
    if (!match || line.includes('ENOENT')) continue;
    total++;
    bySubcommand[match[1] as string] = (bySubcommand[match[1] as string] ?? 0) + 1;
  }
  return { total, bySubcommand };
}
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext, Measurement } from './context.js';
import { expectOutput } from './measure-cold-pull.js';
import { alternate, measureCommand, type CommandSpec, type Contender, type Sample } from './runner.js';
import { figure, type Row } from './table.js';
import { freshDir, podmanPull, removeTree, skopeoCopy, syscontainerPull } from './tools.js';

export const warmPull: Measurement = {
  name: 'warm-pull',
  async run(ctx: BenchContext) {
    const { large } = ctx.images;
    ctx.log(`warm re-pull of ${ctx.refs.large}, ${ctx.runs} runs each`);
    const tools: { name: string; command: (dir: string) => CommandSpec; check: (s: Sample) => void }[] = [
      { name: 'syscontainer', command: (dir) => syscontainerPull(ctx.cli, dir, ctx.refs.large), check: expectOutput('syscontainer pull', large.manifestDigest) },
      { name: 'podman', command: (dir) => podmanPull(ctx.podmanDriver, dir, ctx.refs.large), check: expectOutput('podman pull', large.configDigest.slice('sha256:'.length)) },
      { name: 'skopeo', command: (dir) => skopeoCopy(dir, ctx.refs.large), check: () => undefined },
    ];
    const dirs: string[] = [];
    try {
      const contenders: Contender[] = [];
      for (const tool of tools) {
        const dir = await freshDir(ctx.workDir, `warm-${tool.name}`);
        dirs.push(dir);
        await measureCommand(tool.command(dir), ctx.workDir);
        contenders.push({ name: tool.name, command: () => tool.command(dir), inspect: (_run, sample) => tool.check(sample) });
      }
      const samples = await alternate(contenders, ctx.runs, ctx.workDir, ctx.log);
      const wall = (name: string) => figure((samples[name] ?? []).map((s) => s.wall));

      const root = dirs[0] as string;
      const calls = await ostreeCalls(ctx, root);
      const parts = await alternate(
        [
          { name: 'cli-start', command: () => ({ argv: [ctx.cli, '--help'] }) },
          { name: 'node-start', command: () => ({ argv: [process.execPath, '-e', '0'] }) },
          { name: 'ostree-call', command: () => ({ argv: ['ostree', 'refs', `--repo=${join(root, '.storage', 'ostree')}`] }) },
        ],
        ctx.runs,
        ctx.workDir,
        ctx.log,
      );
      const partWall = (name: string) => figure((parts[name] ?? []).map((s) => s.wall));
      const breakdown: Row[] = [
        { section: breakdownSection, measurement: 'warm re-pull', unit: 's', syscontainer: wall('syscontainer'), floor: wall('podman'), note: 'floor: podman' },
        { section: breakdownSection, measurement: 'CLI start, syscontainer --help', unit: 's', syscontainer: partWall('cli-start'), floor: partWall('node-start'), note: 'floor: node -e 0' },
        {
          section: breakdownSection,
          measurement: 'ostree processes per re-pull',
          unit: 'count',
          syscontainer: figure([calls.total]),
          note: Object.entries(calls.bySubcommand).map(([sub, n]) => `${sub} x${n}`).join(', '),
        },
        { section: breakdownSection, measurement: 'one ostree process (ostree refs)', unit: 's', syscontainer: partWall('ostree-call') },
      ];
      ctx.shared.set('warm-pull', samples);
      return [
        {
          section: 'pull',
          measurement: 'warm re-pull, unchanged',
          unit: 's',
          syscontainer: wall('syscontainer'),
          podman: wall('podman'),
          floor: wall('skopeo'),
        },
        ...breakdown,
      ];
    } finally {
      for (const dir of dirs) await removeTree(dir);
    }
  },
};
