// Deep and big images, cold pulls on a freshly made filesystem per run (as cold-pull does):
//   deep  images of 10, 50 and 100 small layers (bench/extra-images.ts): does a pull's time grow
//         linearly with the layer count, and what does the per-layer union checkout cost? The
//         latter measured alone on the pulled 100-layer image: its layers checked out one by one
//         into one directory with `ostree checkout --union --whiteouts --require-hardlinks`,
//         and `ostree ls -R` of each layer after the first (the symlink check), as the store does.
//   big   one layer of 4 GiB, poorly compressible (opt-in: --big, or --only big): time, CPU
//         and the peak RSS of the largest process beside podman's.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext, Measurement } from './context.js';
import { writeBigImage, writeDeepImages } from './extra-images.js';
import { freshFilesystem } from './fresh-filesystem.js';
import { expectOutput, freshFilesystemContender, pairRatios } from './measure-cold-pull.js';
import { alternate, measureCommand, type Sample } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import { podmanPull, syscontainerPull } from './tools.js';

const run = promisify(execFile);
export const deepSection = 'deep images: cold pull by layer count';
export const bigSection = 'big image: one 4 GiB layer, cold pull';

/** Cold pulls of `ref` by syscontainer and podman, alternating, each on a fresh filesystem of `bytes`. */
async function coldPulls(ctx: BenchContext, label: string, ref: string, image: { manifestDigest: string; configDigest: string }, bytes: number, runs: number): Promise<Record<string, Sample[]>> {
  const dir = join(ctx.workDir, label);
  await mkdir(dir, { recursive: true });
  const fs = freshFilesystem(dir, bytes);
  try {
    return await alternate(
      [
        freshFilesystemContender(fs, 'syscontainer', (d) => syscontainerPull(ctx.cli, d, ref), expectOutput('syscontainer pull', image.manifestDigest)),
        freshFilesystemContender(fs, 'podman', (d) => podmanPull(ctx.podmanDriver, d, ref), expectOutput('podman pull', image.configDigest.slice('sha256:'.length))),
      ],
      runs,
      ctx.workDir,
      ctx.log,
    );
  } finally {
    await fs.remove();
  }
}

/**
 * Seconds (wall, and CPU of the tree) of checking out every layer of the image stored under
 * `root` as store/content/checkout.ts does it, run as one shell loop after a pull.
 */
async function layeredCheckout(ctx: BenchContext, root: string, layerDigests: string[]): Promise<Sample> {
  const repo = join(root, '.storage', 'ostree');
  const commits: string[] = [];
  for (const digest of layerDigests) {
    commits.push((await run('ostree', [`--repo=${repo}`, 'rev-parse', `ociimage/${digest.slice('sha256:'.length)}`])).stdout.trim());
  }
  const dest = join(root, 'checkout-bench');
  const script =
    `set -e; first=1; for c in ${commits.join(' ')}; do ` +
    `if [ $first = 0 ]; then ostree --repo=${repo} ls -R --nul-filenames-only $c >/dev/null; fi; first=0; ` +
    `ostree --repo=${repo} checkout --union --whiteouts --require-hardlinks $c ${dest}; done`;
  return measureCommand({ argv: ['bash', '-c', script] }, ctx.workDir);
}

export const deep: Measurement = {
  name: 'deep',
  async run(ctx) {
    const counts = ctx.quick ? [5, 20] : [10, 50, 100];
    const deepest = Math.max(...counts);
    const { layoutDir, images } = await writeDeepImages(ctx.images.layoutDir, counts);
    const rows: Row[] = [];
    const medians: Record<string, number[]> = { syscontainer: [], podman: [] };
    for (const n of counts) {
      const ref = `${ctx.registryHost}/bench/deep:${n}`;
      await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layoutDir}:deep-${n}`, `docker://${ref}`]);
      ctx.log(`deep: cold pull of ${n} layers, ${ctx.runs} runs each`);
      // A short directory name: podman refuses a runroot longer than 50 characters.
      const samples = await coldPulls(ctx, `d${n}`, ref, images[n]!, 1024 * MiB, ctx.runs);
      const wall = (s: Sample) => s.wall;
      const sys = figure((samples.syscontainer ?? []).map(wall));
      const pod = figure((samples.podman ?? []).map(wall));
      medians.syscontainer!.push(sys.median);
      medians.podman!.push(pod.median);
      const pairs = pairRatios(samples.syscontainer ?? [], samples.podman ?? [], wall);
      rows.push({
        section: deepSection,
        measurement: `${n} layers`,
        unit: 's',
        syscontainer: sys,
        podman: pod,
        pairRatios: pairs,
        note: `per layer ${((sys.median / n) * 1000).toFixed(0)} ms vs ${((pod.median / n) * 1000).toFixed(0)} ms; pairs: ${pairs.map((r) => r.toFixed(2)).join(' ')}`,
      });
    }
    // Linear means a constant cost per added layer: the slope between each pair of counts.
    const slopes = (tool: string) =>
      counts.slice(1).map((n, i) => ((medians[tool]![i + 1]! - medians[tool]![i]!) / (n - counts[i]!)) * 1000);
    rows.push({
      section: deepSection,
      measurement: 'cost of one more layer',
      unit: 's',
      syscontainer: figure([slopes('syscontainer').at(-1)! / 1000]),
      podman: figure([slopes('podman').at(-1)! / 1000]),
      note: `ms per layer between the counts ${counts.join(' → ')}: syscontainer ${slopes('syscontainer').map((v) => v.toFixed(0)).join(', ')}; podman ${slopes('podman').map((v) => v.toFixed(0)).join(', ')}`,
    });

    // The checkout alone, on the pulled deepest image (untimed pull first).
    const dir = join(ctx.workDir, 'deep-checkout');
    await mkdir(dir, { recursive: true });
    const fs = freshFilesystem(dir, 1024 * MiB);
    try {
      await fs.make();
      const root = join(fs.mountPoint, 'root');
      await mkdir(root);
      await measureCommand(syscontainerPull(ctx.cli, root, `${ctx.registryHost}/bench/deep:${deepest}`), ctx.workDir);
      const checkouts: Sample[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        checkouts.push(await layeredCheckout(ctx, root, images[deepest]!.layers.map((layer) => layer.digest)));
        await run('rm', ['-rf', join(root, 'checkout-bench')]);
      }
      const perLayer = (value: (s: Sample) => number) => figure(checkouts.map((s) => value(s) / deepest));
      rows.push(
        { section: deepSection, measurement: `checkout per layer, wall (${deepest} layers)`, unit: 's', syscontainer: perLayer((s) => s.wall), note: 'ostree checkout --union --whiteouts --require-hardlinks, and ls -R, per layer' },
        { section: deepSection, measurement: 'checkout per layer, CPU', unit: 's', syscontainer: perLayer((s) => s.user + s.sys), note: 'two ostree processes per layer' },
      );
    } finally {
      await fs.remove();
    }
    return rows;
  },
};

export const big: Measurement = {
  name: 'big',
  optIn: true,
  async run(ctx) {
    ctx.log('big: writing the big image (once per cache)');
    const { layoutDir, image } = await writeBigImage(ctx.images.layoutDir, ctx.images.scale);
    const ref = `${ctx.registryHost}/bench/big:v1`;
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layoutDir}:big`, `docker://${ref}`]);
    const layer = image.layers[0]!;
    const runs = Math.min(ctx.runs, 3);
    ctx.log(`big: cold pull of ${(layer.uncompressedSize / MiB).toFixed(0)} MiB (${(layer.size / MiB).toFixed(0)} MiB gzip), ${runs} runs each`);
    // Room for the layer three times over (podman's layer and its temporary copy, ostree's objects).
    const bytes = Math.ceil((3 * layer.uncompressedSize) / MiB) * MiB + 1024 * MiB;
    const samples = await coldPulls(ctx, 'big', ref, image, bytes, runs);
    const of = (tool: string, value: (s: Sample) => number) => figure((samples[tool] ?? []).map(value));
    const row = (measurement: string, unit: Row['unit'], value: (s: Sample) => number, note: string): Row => {
      const pairs = pairRatios(samples.syscontainer ?? [], samples.podman ?? [], value);
      return { section: bigSection, measurement, unit, syscontainer: of('syscontainer', value), podman: of('podman', value), pairRatios: pairs, note: `${note}; pairs: ${pairs.map((r) => r.toFixed(2)).join(' ')}` };
    };
    return [
      row('cold pull', 's', (s) => s.wall, `${(layer.uncompressedSize / MiB).toFixed(0)} MiB tar, ${(layer.size / MiB).toFixed(0)} MiB gzip, ${layer.fileEntries} files`),
      row('CPU user+sys', 's', (s) => s.user + s.sys, 'all processes of the tree'),
      row('peak RSS, largest process', 'MiB', (s) => s.maxRssBytes / MiB, 'GNU time %M'),
      row('peak RSS, whole tree', 'MiB', (s) => s.peakTreeRssBytes / MiB, 'sum over processes, sampled every 50 ms'),
    ];
  },
};
