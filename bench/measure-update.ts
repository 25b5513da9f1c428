// Update cost, end to end: a container runs v1 of the large image; v2 is pushed; how long until
// the container runs v2, how many bytes came over the network, how much the store grew.
//   v2a  one small top layer changed (bench/extra-images.ts)
//   v2b  the base layer rebuilt, 2% of its files changed
// syscontainer: `update --rebase REF:v2 NAME` (pull, new deployment in the other slot, stop the
//   old container, start the new one, then its 2 s settle to see it stay up). Timed to the new
//   container's first line in its deployment's container.log ("serving"), and to the exit.
// podman: `podman pull REF:v2 && podman stop c && podman rm c && podman run -d --name c REF:v2`,
//   timed to the exit of `run -d` (the container started; counted as serving).
// Each tool and variant gets a freshly made filesystem, v1 pulled and running (untimed); after
// each timed run the v2 image and container go again (untimed: uninstall, images delete,
// images prune, install v1; podman rm, rmi, run v1), so every run starts from the same state.
// Bytes fetched: counted on the wire, by a TCP pass-through in front of the registry
// (counting-proxy.ts) that both tools pull through.
// Store growth: du -s -B1 of the whole storage after the run minus before.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { logMessages } from '../runtime/supervisor/container-log.js';
import { readyLine, type WrittenImage } from './bench-images.js';
import type { BenchContext, Measurement } from './context.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { writeUpdateImages } from './extra-images.js';
import { freshFilesystem, type FreshFilesystem } from './fresh-filesystem.js';
import { freshFilesystemBytes } from './measure-cold-pull.js';
import { alternate, measureCommand, type Contender, type Sample } from './runner.js';
import { figure, MiB, type Row } from './table.js';
import { diskUsage, freshHostFileDirs, podmanGlobal, podmanRunDetached, syscontainer, type HostFileDirs } from './tools.js';

const run = promisify(execFile);
export const updateSection = 'update: v1 running, then v2 (large image)';
const variants = ['v2a', 'v2b'] as const;
type Variant = (typeof variants)[number];
const variantNote: Record<Variant, string> = { v2a: 'one small top layer changed', v2b: 'base layer rebuilt, 2% of its files changed' };

interface UpdateFigures {
  /** Seconds from spawn to the new container's first line (syscontainer) or to run -d's exit (podman). */
  serving: number;
  bytesFetched: number;
  storeGrowth: number;
}

/** Compressed bytes of the layers of `next` that `previous` does not have. */
function newLayerBytes(previous: WrittenImage, next: WrittenImage): number {
  const had = new Set(previous.layers.map((layer) => layer.digest));
  return next.layers.filter((layer) => !had.has(layer.digest)).reduce((sum, layer) => sum + layer.size, 0);
}

/** Lines with the ready line in both deployment slots' container.log. */
async function readyLines(root: string, name: string): Promise<number> {
  let count = 0;
  for (const slot of [0, 1]) {
    const text = await readFile(join(root, `${name}.${slot}`, 'container.log'), 'utf8').catch(() => '');
    count += logMessages(text.slice(0, text.lastIndexOf('\n') + 1)).split('\n').filter((line) => line === readyLine).length;
  }
  return count;
}

/** Polls every 10 ms until the ready-line count exceeds `before`; resolves with seconds since `started`. */
function watchServing(root: string, name: string, before: number, started: bigint): { seen: Promise<number>; stop(): void } {
  let stopped = false;
  const seen = (async () => {
    while (!stopped) {
      if ((await readyLines(root, name)) > before) return Number(process.hrtime.bigint() - started) / 1e9;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return NaN;
  })();
  return { seen, stop: () => void (stopped = true) };
}

interface Setup {
  ctx: BenchContext;
  variant: Variant;
  refs: Record<'v1' | Variant, string>;
  /** The registry as the tools reach it: counts what they fetch. */
  proxy: CountingProxy;
  fs: FreshFilesystem;
  /** The container's name: unique on this machine (runc's state is shared). */
  name: string;
  figures: UpdateFigures[];
}

function syscontainerContender({ ctx, variant, refs, proxy, fs, name, figures }: Setup): Contender & { stop(): Promise<void> } {
  const root = join(fs.mountPoint, 'root');
  let dirs: HostFileDirs;
  let before = 0;
  let serving: ReturnType<typeof watchServing> | undefined;
  const cli = async (args: string[]): Promise<Sample> => measureCommand(syscontainer(ctx.cli, root, dirs, args), ctx.workDir);
  return {
    name: `syscontainer-${variant}`,
    async prepare(index) {
      if (index === 0) {
        await fs.make();
        await mkdir(root);
        dirs = await freshHostFileDirs(fs.mountPoint, 'host');
        await cli(['install', '--system', '--name', name, refs.v1]);
      }
      before = (await diskUsage(root)).allocated;
      await run('sync');
    },
    command() {
      proxy.reset();
      const started = process.hrtime.bigint();
      void readyLines(root, name).then((count) => (serving = watchServing(root, name, count, started)));
      return syscontainer(ctx.cli, root, dirs, ['update', '--rebase', refs[variant], name]);
    },
    async inspect(_index, sample) {
      const at = serving ? await Promise.race([serving.seen, new Promise<number>((resolve) => setTimeout(() => resolve(NaN), 10_000))]) : NaN;
      serving?.stop();
      serving = undefined;
      figures.push({ serving: at, bytesFetched: proxy.bytesDown(), storeGrowth: (await diskUsage(root)).allocated - before });
    },
    async cleanup() {
      // Back to v1 running and no v2 in the store (untimed).
      await cli(['uninstall', name]);
      await cli(['images', 'delete', refs[variant]]);
      await cli(['images', 'prune']);
      await cli(['install', '--system', '--name', name, refs.v1]);
    },
    async stop() {
      if (dirs !== undefined) await cli(['uninstall', name]).catch(() => undefined);
    },
  };
}

function podmanContender({ ctx, variant, refs, proxy, fs, name, figures }: Setup): Contender & { stop(): Promise<void> } {
  const root = join(fs.mountPoint, 'podman');
  const global = podmanGlobal(ctx.podmanDriver, root).join(' ');
  let before = 0;
  let made = false;
  const podman = async (args: string[]): Promise<void> => void (await run('podman', [...podmanGlobal(ctx.podmanDriver, root), ...args]));
  const runV1 = async (): Promise<void> => void (await run('podman', podmanRunDetached(ctx.podmanDriver, root, name, refs.v1).slice(1)));
  return {
    name: `podman-${variant}`,
    async prepare(index) {
      if (index === 0) {
        await fs.make();
        made = true;
        await mkdir(root);
        await podman(['pull', '-q', '--tls-verify=false', refs.v1]);
        await runV1();
      }
      before = (await diskUsage(root)).allocated;
      await run('sync');
    },
    command: () => {
      proxy.reset();
      return {
      argv: [
        'bash',
        '-c',
        `set -e; podman ${global} pull --tls-verify=false ${refs[variant]}; podman ${global} stop -t 10 ${name} >/dev/null; ` +
          `podman ${global} rm ${name} >/dev/null; ${podmanRunDetached(ctx.podmanDriver, root, name, refs[variant]).join(' ')}`,
      ],
      };
    },
    async inspect(_index, sample) {
      figures.push({ serving: sample.wall, bytesFetched: proxy.bytesDown(), storeGrowth: (await diskUsage(root)).allocated - before });
    },
    async cleanup() {
      await podman(['rm', '-f', name]);
      await podman(['rmi', refs[variant]]);
      await runV1();
    },
    async stop() {
      if (made) await podman(['rm', '-f', '--ignore', name]).catch(() => undefined);
    },
  };
}

export const update: Measurement = {
  name: 'update',
  async run(ctx) {
    const images = await writeUpdateImages(ctx.images);
    for (const tag of ['v1', 'v2a', 'v2b'] as const) {
      await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${images.layoutDir}:${tag}`, `docker://${ctx.registryHost}/bench/update:${tag}`]);
    }
    const proxy = await startCountingProxy(ctx.registryHost);
    const refs = { v1: `${proxy.host}/bench/update:v1`, v2a: `${proxy.host}/bench/update:v2a`, v2b: `${proxy.host}/bench/update:v2b` };
    const rows: Row[] = [];
    try {
      for (const variant of variants) {
        ctx.log(`update to ${variant} (${variantNote[variant]}), ${ctx.runs} runs each`);
        const figures: Record<string, UpdateFigures[]> = { syscontainer: [], podman: [] };
        const setup = async (tool: string): Promise<Setup> => {
          // Short: podman refuses a runroot longer than 50 characters.
          const dir = join(ctx.workDir, `u${tool[0]}${variant.slice(-1)}`);
          await mkdir(dir, { recursive: true });
          const fs = freshFilesystem(dir, freshFilesystemBytes(ctx));
          return { ctx, variant, refs, proxy, fs, name: `upd-${variant}-${randomBytes(3).toString('hex')}`, figures: figures[tool]! };
        };
        const setups = [await setup('syscontainer'), await setup('podman')];
        const contenders = [syscontainerContender(setups[0]!), podmanContender(setups[1]!)];
        let samples: Record<string, Sample[]>;
        try {
          samples = await alternate(contenders, ctx.runs, ctx.workDir, ctx.log);
        } finally {
          // The containers still running go first (by name), then their filesystems.
          for (const contender of contenders) await contender.stop();
          for (const { fs } of setups) await fs.remove().catch(() => undefined);
        }
        const of = (tool: string, value: (f: UpdateFigures) => number) => figure((figures[tool] ?? []).map(value));
        const section = updateSection;
        const label = `${variant} (${variantNote[variant]})`;
        rows.push(
          { section, measurement: `${label}: to serving`, unit: 's', syscontainer: of('syscontainer', (f) => f.serving), podman: of('podman', (f) => f.serving), note: 'syscontainer: to the new container\'s first line; podman: pull+stop+rm+run -d' },
          {
            section,
            measurement: `${variant}: to the command's exit`,
            unit: 's',
            syscontainer: figure((samples[`syscontainer-${variant}`] ?? []).map((s) => s.wall)),
            podman: figure((samples[`podman-${variant}`] ?? []).map((s) => s.wall)),
            note: 'syscontainer waits 2 s after the start to see the container stay up (rolls back otherwise)',
          },
          {
            section,
            measurement: `${variant}: bytes fetched`,
            unit: 'MiB',
            syscontainer: of('syscontainer', (f) => f.bytesFetched / MiB),
            podman: of('podman', (f) => f.bytesFetched / MiB),
            note: `counted on the wire (HTTP included); the layers not in v1: ${(newLayerBytes(images.v1, images[variant]) / MiB).toFixed(1)} MiB`,
          },
          { section, measurement: `${variant}: store growth`, unit: 'MiB', syscontainer: of('syscontainer', (f) => f.storeGrowth / MiB), podman: of('podman', (f) => f.storeGrowth / MiB), note: 'du -s -B1 of the whole storage, after minus before' },
        );
      }
    } finally {
      await proxy.close();
    }
    return rows;
  },
};
