// Cold pull of the large image into empty storage: syscontainer vs podman, skopeo copy as
// the transfer floor and `tar -x` of the layers' tars as the file-writing floor. Every run of
// every tool gets a freshly made filesystem of the same size in the same place
// (fresh-filesystem.ts), made untimed; the tools alternate run by run, and the ratio is
// given pair by pair (run i of syscontainer over run i of podman) as well as of the medians.
// Also reports CPU and peak RSS from the same runs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext, Measurement } from './context.js';
import { freshFilesystem, type FreshFilesystem } from './fresh-filesystem.js';
import { layerTars } from './layer-tars.js';
import { alternate, type CommandSpec, type Contender, type Sample } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import { podmanPull, skopeoCopy, syscontainerPull } from './tools.js';

/** The size of the filesystem each cold run gets: room for the image three times over. */
export function freshFilesystemBytes(ctx: BenchContext): number {
  return Math.max(1024 * MiB, Math.ceil((3 * ctx.images.large.uncompressedBytes) / MiB) * MiB);
}

/** A contender that runs in DIR on a filesystem made anew (untimed) before each of its runs. */
export function freshFilesystemContender(
  fs: FreshFilesystem,
  name: string,
  command: (dir: string) => CommandSpec,
  check: (sample: Sample) => void = () => undefined,
): Contender {
  const dir = join(fs.mountPoint, name);
  return {
    name,
    async prepare() {
      await fs.make();
      await mkdir(dir);
    },
    command: () => command(dir),
    inspect: (_run, sample) => check(sample),
    cleanup: () => fs.unmount(),
  };
}

/** Per pair of runs, a / b. */
export function pairRatios(a: readonly Sample[], b: readonly Sample[], value: (s: Sample) => number): number[] {
  return a.slice(0, b.length).map((sample, i) => value(sample) / value(b[i] as Sample));
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
    const tars = await layerTars(ctx);
    const fs = freshFilesystem(ctx.workDir, freshFilesystemBytes(ctx));
    ctx.log(`cold pull of ${ctx.refs.large}, ${ctx.runs} runs each, each on a fresh ${(freshFilesystemBytes(ctx) / MiB).toFixed(0)} MiB ext4`);
    let samples: Record<string, Sample[]>;
    try {
      samples = await alternate(
        [
          freshFilesystemContender(fs, 'syscontainer', (dir) => syscontainerPull(ctx.cli, dir, ctx.refs.large), expectOutput('syscontainer pull', large.manifestDigest)),
          freshFilesystemContender(fs, 'podman', (dir) => podmanPull(ctx.podmanDriver, dir, ctx.refs.large), expectOutput('podman pull', large.configDigest.slice('sha256:'.length))),
          freshFilesystemContender(fs, 'skopeo', (dir) => skopeoCopy(dir, ctx.refs.large)),
          freshFilesystemContender(fs, 'tar-x', (dir) => ({
            argv: ['bash', '-c', `printf '%s\\n' ${tars.join(' ')} | xargs -P3 -I{} sh -c 'mkdir -p ${dir}/$(basename {}) && tar -xf {} -C ${dir}/$(basename {})'`],
          })),
        ],
        ctx.runs,
        ctx.workDir,
        ctx.log,
      );
    } finally {
      await fs.remove();
    }
    ctx.shared.set('cold-pull', samples);
    const of = (name: string): Sample[] => samples[name] ?? [];
    const pick = (name: string, value: (s: Sample) => number) => figure(of(name).map(value));
    const rows = (measurement: string, unit: Row['unit'], value: (s: Sample) => number, note?: string, floor = 'skopeo'): Row => {
      const pairs = pairRatios(of('syscontainer'), of('podman'), value);
      const pairNote = `pairs: ${pairs.map((r) => r.toFixed(2)).join(' ')}`;
      return {
        section: 'pull',
        measurement,
        unit,
        syscontainer: pick('syscontainer', value),
        podman: pick('podman', value),
        floor: pick(floor, value),
        pairRatios: pairs,
        note: note ? `${note}; ${pairNote}` : pairNote,
      };
    };
    const wall = (s: Sample) => s.wall;
    return [
      rows('cold pull, large image', 's', wall),
      rows('cold pull, floor: tar -x of the tars', 's', wall, 'floor column here: tar -x of the uncompressed layers, 3 at once', 'tar-x'),
      rows('cold pull CPU user+sys', 's', (s) => s.user + s.sys, 'all processes of the tree'),
      rows('cold pull peak RSS, largest process', 'MiB', (s) => s.maxRssBytes / MiB, 'GNU time %M'),
      rows('cold pull peak RSS, whole tree', 'MiB', (s) => s.peakTreeRssBytes / MiB, 'sum over processes, sampled every 50 ms'),
    ];
  },
};
