// Where the time of `syscontainer pull` goes, from outside: the cold pulls' CPU split by
// process (node: fetch, gunzip, sha256, tar filter; ostree: commit), when each layer was
// stored, and floors for each stage measured alone on the same layers — gunzip+sha256 in
// Node, `ostree commit` of the tars (with and without fsync), `tar -x` of the tars.
// Reads the samples the cold-pull measurement left in ctx.shared (runs it first if absent).
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { Meter } from '../common/metering.js';
import type { BenchContext, Measurement } from './context.js';
import { coldPull, freshFilesystemBytes } from './measure-cold-pull.js';
import { alternate, median, timeIt, type Contender, type Sample } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import { freshFilesystem, type FreshFilesystem } from './fresh-filesystem.js';
import { layerTars } from './layer-tars.js';

const run = promisify(execFile);
const section = 'syscontainer pull: where the time goes (large image)';

/** gunzip + sha256 of the tar, as the store's import does it, without the store. */
async function gunzipAndHash(blob: string, tarOut?: string): Promise<void> {
  const sink = tarOut
    ? createWriteStream(tarOut)
    : new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const meter = new Meter();
  await pipeline(createReadStream(blob), createGunzip(), meter, sink);
  meter.digest();
}

/** A contender running a shell line in DIR on a freshly made filesystem, after `setup(DIR)`. */
function shellContender(fs: FreshFilesystem, name: string, setup: (dir: string) => Promise<void>, line: (dir: string) => string): Contender {
  const dir = join(fs.mountPoint, name);
  return {
    name,
    async prepare() {
      await fs.make();
      await mkdir(dir);
      await setup(dir);
      await run('sync');
    },
    command: () => ({ argv: ['bash', '-c', line(dir)] }),
    cleanup: () => fs.unmount(),
  };
}

export const pullBreakdown: Measurement = {
  name: 'breakdown',
  async run(ctx) {
    if (!ctx.shared.has('cold-pull')) await coldPull.run(ctx);
    const pulls: Sample[] = ctx.shared.get('cold-pull')!.syscontainer ?? [];
    const skopeo: Sample[] = ctx.shared.get('cold-pull')!.skopeo ?? [];
    const { large, layoutDir } = ctx.images;
    const blob = (digest: string) => join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const rows: Row[] = [];
    const one = (measurement: string, unit: Row['unit'], values: number[], note?: string, asFloor = false): void => {
      rows.push({ section, measurement, unit, ...(asFloor ? { floor: figure(values) } : { syscontainer: figure(values) }), ...(note ? { note } : {}) });
    };

    one('wall', 's', pulls.map((s) => s.wall), `${pulls.length} cold pulls`);
    one('CPU: node (fetch, gunzip, sha256, tar filter)', 's', pulls.map((s) => s.cpuByCommand.node ?? 0), 'sampled /proc');
    one('CPU: ostree (commit)', 's', pulls.map((s) => s.cpuByCommand.ostree ?? 0), 'sampled /proc');
    one('CPU: everything (GNU time)', 's', pulls.map((s) => s.user + s.sys));
    one('peak RSS: node', 'MiB', pulls.map((s) => (s.peakRssByCommand.node ?? 0) / MiB), 'VmHWM');
    one('peak RSS: one ostree', 'MiB', pulls.map((s) => (s.peakRssByCommand.ostree ?? 0) / MiB), 'VmHWM');
    const firstLine = (s: Sample, pattern: RegExp) => s.stderrLines.find((l) => pattern.test(l.line))?.at ?? NaN;
    one('resolved (manifest + config fetched)', 's', pulls.map((s) => firstLine(s, /^pulling /)), 'time of the "pulling" line');
    large.layers.forEach((layer, index) => {
      const short = layer.digest.slice('sha256:'.length, 'sha256:'.length + 12);
      const stored = pulls.map((s) => firstLine(s, new RegExp(`${short}.*stored`)));
      const took = pulls.map((s) => Number(/stored in ([\d.]+) s/.exec(s.stderrLines.find((l) => l.line.includes(short) && l.line.includes('stored'))?.line ?? '')?.[1] ?? NaN));
      one(
        `layer ${index + 1} stored at`,
        's',
        stored,
        `${(layer.size / MiB).toFixed(0)} MiB gz, ${(layer.uncompressedSize / MiB).toFixed(0)} MiB tar, ${layer.fileEntries} files; import took ${median(took).toFixed(1)} s`,
      );
    });
    one('skopeo copy (download + verify)', 's', skopeo.map((s) => s.wall), 'cold-pull floor', true);

    // Stage floors on the same layers.
    ctx.log('breakdown: stage floors');
    const gunzipTimes: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      gunzipTimes.push(await timeIt(async () => {
        for (const layer of large.layers) await gunzipAndHash(blob(layer.digest));
      }));
    }
    one('gunzip + sha256 in Node, layers one by one', 's', gunzipTimes, 'in the bench process', true);
    const tars = (await layerTars(ctx)).join(' ');
    const commit = (fsync: boolean) => (dir: string) =>
      `printf '%s\\n' ${tars} | xargs -P3 -I{} ostree commit --repo=${dir}/repo --orphan --no-bindings --tree=tar={} --tar-autocreate-parents${fsync ? '' : ' --fsync=false'} >/dev/null`;
    const initRepo = async (dir: string) => void (await run('ostree', ['init', '--mode=bare', `--repo=${dir}/repo`]));
    const fs = freshFilesystem(ctx.workDir, freshFilesystemBytes(ctx));
    try {
      const samples = await alternate(
        [
          shellContender(fs, 'ostree-commit', initRepo, commit(true)),
          shellContender(fs, 'ostree-commit-nofsync', initRepo, commit(false)),
        ],
        ctx.runs,
        ctx.workDir,
        ctx.log,
      );
      const wall = (name: string) => (samples[name] ?? []).map((s) => s.wall);
      one('ostree commit of the tars, 3 at once', 's', wall('ostree-commit'), 'bare repo, tars from page cache, fresh ext4', true);
      one('same, ostree commit --fsync=false', 's', wall('ostree-commit-nofsync'), undefined, true);
      one('tar -x of the tars, 3 at once', 's', (ctx.shared.get('cold-pull')!['tar-x'] ?? []).map((s) => s.wall), 'from the cold-pull runs, fresh ext4', true);
    } finally {
      await fs.remove();
    }
    return rows;
  },
};
