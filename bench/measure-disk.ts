// Disk: the storage each tool leaves after pulling the large image, then after also pulling
// the sibling (same files mostly, no shared layer). Deterministic, so one run per tool.
// syscontainer: the whole --root (the OSTree repo and its refs); podman: its graph root;
// skopeo: the OCI dir (compressed blobs: the floor). Also times the sibling pull into the
// store that holds the large image (one run: indicative only).
import type { BenchContext, Measurement } from './context.js';
import { expectOutput } from './measure-cold-pull.js';
import { measureCommand, type CommandSpec, type Sample } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import { diskUsage, freshDir, podmanPull, removeTree, skopeoCopy, syscontainerPull, type DiskUsage } from './tools.js';
import { join } from 'node:path';

interface ToolDisk {
  afterLarge: DiskUsage;
  afterBoth: DiskUsage;
  siblingPullSeconds: number;
}

export const disk: Measurement = {
  name: 'disk',
  async run(ctx: BenchContext) {
    const { large, sibling } = ctx.images;
    ctx.log('disk: pull large, then sibling, per tool');
    const tools: { name: string; pull: (dir: string, ref: string) => CommandSpec; measured: (dir: string) => string; check: (image: 'large' | 'sibling') => (s: Sample) => void }[] = [
      {
        name: 'syscontainer',
        pull: (dir, ref) => syscontainerPull(ctx.cli, dir, ref),
        measured: (dir) => dir,
        check: (image) => expectOutput('syscontainer pull', (image === 'large' ? large : sibling).manifestDigest),
      },
      {
        name: 'podman',
        pull: (dir, ref) => podmanPull(ctx.podmanDriver, dir, ref),
        measured: (dir) => join(dir, 'storage'),
        check: (image) => expectOutput('podman pull', (image === 'large' ? large : sibling).configDigest.slice('sha256:'.length)),
      },
      { name: 'skopeo', pull: (dir, ref) => skopeoCopy(dir, ref), measured: (dir) => dir, check: () => () => undefined },
    ];
    const result: Record<string, ToolDisk> = {};
    for (const tool of tools) {
      const dir = await freshDir(ctx.workDir, `disk-${tool.name}`);
      try {
        tool.check('large')(await measureCommand(tool.pull(dir, ctx.refs.large), ctx.workDir));
        const afterLarge = await diskUsage(tool.measured(dir));
        const siblingPull = await measureCommand(tool.pull(dir, ctx.refs.sibling), ctx.workDir);
        tool.check('sibling')(siblingPull);
        const afterBoth = await diskUsage(tool.measured(dir));
        result[tool.name] = { afterLarge, afterBoth, siblingPullSeconds: siblingPull.wall };
        ctx.log(`  ${tool.name}: ${(afterLarge.apparent / MiB).toFixed(1)} MiB, with sibling ${(afterBoth.apparent / MiB).toFixed(1)} MiB`);
      } finally {
        await removeTree(dir);
      }
    }
    const row = (measurement: string, unit: Row['unit'], value: (d: ToolDisk) => number, note?: string): Row => ({
      section: 'pull',
      measurement,
      unit,
      syscontainer: figure([value(result.syscontainer!)]),
      podman: figure([value(result.podman!)]),
      floor: figure([value(result.skopeo!)]),
      ...(note ? { note } : {}),
    });
    return [
      row('disk after large, du -sb', 'MiB', (d) => d.afterLarge.apparent / MiB, `image: ${(large.uncompressedBytes / MiB).toFixed(0)} MiB tar, ${(large.compressedBytes / MiB).toFixed(0)} MiB gzip`),
      row('disk after large, allocated', 'MiB', (d) => d.afterLarge.allocated / MiB, 'du -s -B1'),
      row('disk after large+sibling, du -sb', 'MiB', (d) => d.afterBoth.apparent / MiB),
      row('disk after large+sibling, allocated', 'MiB', (d) => d.afterBoth.allocated / MiB),
      row('pull sibling into store with large', 's', (d) => d.siblingPullSeconds, 'one run each'),
    ];
  },
};
