// Cold pull of the large image into empty storage: syscontainer vs podman, skopeo copy as
// the transfer floor. Each run gets a fresh storage dir (made and removed untimed, with a
// sync so the previous run's dirty pages are not written back on the next one's clock).
// Also reports CPU and peak RSS from the same runs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BenchContext, Measurement } from './context.js';
import { alternate, type Contender, type Sample } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import { freshDir, podmanPull, removeTree, skopeoCopy, syscontainerPull } from './tools.js';

const run = promisify(execFile);

/** A contender that pulls into a new directory each run and removes it afterwards. */
export function freshStorageContender(
  ctx: BenchContext,
  name: string,
  command: (dir: string) => ReturnType<Contender['command']>,
  check: (sample: Sample) => void,
): Contender {
  let dir = '';
  return {
    name,
    async prepare() {
      dir = await freshDir(ctx.workDir, name);
      await run('sync');
    },
    command: () => command(dir),
    inspect: (_run, sample) => check(sample),
    async cleanup() {
      await removeTree(dir);
    },
  };
}

/** Checks that a tool printed the digest or id the bench expects (so it pulled the right thing). */
export function expectOutput(tool: string, expected: string): (sample: Sample) => void {
  return (sample) => {
    const printed = sample.stdout.trim().split('\n').pop() ?? '';
    if (printed !== expected) throw new Error(`${tool}: printed ${JSON.stringify(printed)}, expected ${expected}`);
  };
}

export const coldPull: Measurement = {
  name: 'cold-pull',
  async run(ctx) {
    const { large } = ctx.images;
    ctx.log(`cold pull of ${ctx.refs.large}, ${ctx.runs} runs each`);
    const samples = await alternate(
      [
        freshStorageContender(ctx, 'syscontainer', (dir) => syscontainerPull(ctx.cli, dir, ctx.refs.large), expectOutput('syscontainer pull', large.manifestDigest)),
        freshStorageContender(ctx, 'podman', (dir) => podmanPull(ctx.podmanDriver, dir, ctx.refs.large), expectOutput('podman pull', large.configDigest.slice('sha256:'.length))),
        freshStorageContender(ctx, 'skopeo', (dir) => skopeoCopy(dir, ctx.refs.large), () => undefined),
      ],
      ctx.runs,
      ctx.workDir,
      ctx.log,
    );
    ctx.shared.set('cold-pull', samples);
    const pick = (name: string, value: (s: Sample) => number) => figure((samples[name] ?? []).map(value));
    const rows = (measurement: string, unit: Row['unit'], value: (s: Sample) => number, note?: string): Row => ({
      section: 'pull',
      measurement,
      unit,
      syscontainer: pick('syscontainer', value),
      podman: pick('podman', value),
      floor: pick('skopeo', value),
      ...(note ? { note } : {}),
    });
    return [
      rows('cold pull, large image', 's', (s) => s.wall),
      rows('cold pull CPU user+sys', 's', (s) => s.user + s.sys, 'all processes of the tree'),
      rows('cold pull peak RSS, largest process', 'MiB', (s) => s.maxRssBytes / MiB, 'GNU time %M'),
      rows('cold pull peak RSS, whole tree', 'MiB', (s) => s.peakTreeRssBytes / MiB, 'sum over processes, sampled every 50 ms'),
    ];
  },
};
