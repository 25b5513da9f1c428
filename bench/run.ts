// `npm run bench`: syscontainer against the tools an operator would otherwise use (podman;
// skopeo as the transfer floor), side by side in one run on this machine, on deterministic
// test images served by a loopback docker-registry. Prints one table per section and writes
// the figures as JSON under bench/results/ (gitignored).
//   node dist/bench/run.js [--quick] [--runs N] [--only NAME,...] [--many 1,10,100] [--big] [--image-cache DIR] [--keep]
// Measurements are files of their own (measure-*.ts), listed below; each returns rows.
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startRegistry, type RegistryServer } from '../test/helpers/registry-server.js';
import { writeBenchImages } from './bench-images.js';
import type { BenchContext, Measurement } from './context.js';
import { cliStart } from './measure-cli-start.js';
import { coldPull } from './measure-cold-pull.js';
import { big, deep } from './measure-deep-big.js';
import { disk } from './measure-disk.js';
import { healthcheck } from './measure-healthcheck.js';
import { install } from './measure-install.js';
import { manyContainers } from './measure-many.js';
import { pullBreakdown } from './measure-pull-breakdown.js';
import { start } from './measure-start.js';
import { update } from './measure-update.js';
import { warmPull } from './measure-warm-pull.js';
import { api } from './measure-api.js';
import { timeBinary } from './runner.js';
import { formatTables, MiB, type Row } from './table.js';
import { podmanSupports, removeTree, type PodmanDriver } from './tools.js';

const run = promisify(execFile);

/** In table order. Add a measurement: write bench/measure-NAME.ts, list it here. */
const measurements: Measurement[] = [cliStart, coldPull, warmPull, disk, pullBreakdown, update, deep, big, install, start, manyContainers, api, healthcheck];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quickScale = 0.2;

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function requireTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of ['podman', 'skopeo', 'ostree', 'docker-registry', 'du', 'runc', 'docker']) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(tool);
    }
  }
  await access(timeBinary).catch(() => missing.push(timeBinary));
  if (missing.length > 0) throw new Error(`bench: missing ${missing.join(', ')} (run npm run bench as root: it installs them)`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      only: { type: 'string' },
      'image-cache': { type: 'string' },
      keep: { type: 'boolean' },
      many: { type: 'string' },
      big: { type: 'boolean' },
    },
  });
  const quick = values.quick === true;
  const runs = Number(values.runs ?? 5);
  if (!Number.isInteger(runs) || runs < 3) throw new Error(`bench: --runs needs an integer of at least 3, not ${values.runs}`);
  const manyCounts = (values.many ?? (quick ? '1,10' : '1,10,100')).split(',').map(Number);
  if (manyCounts.some((n) => !Number.isInteger(n) || n < 1) || manyCounts.some((n, i) => i > 0 && n <= (manyCounts[i - 1] as number))) {
    throw new Error(`bench: --many needs rising counts like 1,10,100, not ${values.many}`);
  }
  const only = values.only?.split(',');
  const selected = only ? measurements.filter((m) => only.includes(m.name)) : measurements.filter((m) => !m.optIn || (m.name === 'big' && values.big === true));
  if (selected.length === 0) throw new Error(`bench: --only names none of ${measurements.map((m) => m.name).join(', ')}`);
  await requireTools();
  const cli = join(repoRoot, 'dist', 'syscontainer.mjs');
  await access(cli).catch(() => {
    throw new Error(`bench: ${cli} is missing; build first (npx tsc -p .)`);
  });

  // A short name: podman refuses a runroot longer than 50 characters.
  const workDir = await mkdtemp('/var/tmp/scbench-');
  // Temporary files of the registry helper and of every tool run go under the work dir too.
  await mkdir(join(workDir, 'tmp'));
  process.env.TMPDIR = join(workDir, 'tmp');
  let registry: RegistryServer | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await registry?.stop().catch(() => undefined);
      if (values.keep) log(`kept ${workDir}`);
      else await removeTree(workDir);
    })());
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

  try {
    const scale = quick ? quickScale : 1;
    const layoutDir = values['image-cache'] ?? join(workDir, 'images');
    log(`building test images (scale ${scale}) in ${layoutDir}`);
    const images = await writeBenchImages(layoutDir, scale);
    for (const image of [images.large, images.sibling]) {
      log(
        `  ${image.tag}: ${image.layers.length} layers, ${(image.compressedBytes / MiB).toFixed(0)} MiB gzip, ` +
          `${(image.uncompressedBytes / MiB).toFixed(0)} MiB tar, ${image.fileEntries} file entries, ${image.manifestDigest}`,
      );
    }

    registry = await startRegistry();
    const refs = { large: `${registry.host}/bench/large:v1`, sibling: `${registry.host}/bench/sibling:v1`, small: `${registry.host}/bench/small:v1` };
    for (const [tag, ref] of [['large', refs.large], ['sibling', refs.sibling], ['small', refs.small]] as const) {
      await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layoutDir}:${tag}`, `docker://${ref}`]);
    }
    log(`registry ${registry.host}: pushed ${refs.large}, ${refs.sibling}`);

    let podmanDriver: PodmanDriver = 'overlay';
    if (!(await podmanSupports('overlay', workDir))) {
      podmanDriver = 'vfs';
      log('podman: the overlay driver does not work here; using vfs (podman figures are pessimistic)');
    }

    const ctx: BenchContext = { workDir, registryHost: registry.host, images, refs, runs, manyCounts, quick, cli, podmanDriver, log, shared: new Map() };
    const rows: Row[] = [];
    // A section that fails costs only its own figures: the others of a long run still print.
    const failures: { section: string; error: string }[] = [];
    // The machine is shared: the load around the run says how far to trust absolute figures.
    const loadBefore = loadavg()[0] as number;
    for (const measurement of selected) {
      try {
        rows.push(...(await measurement.run(ctx)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ section: measurement.name, error: message });
        log(`${measurement.name}: failed: ${message}`);
      }
    }
    const loadAfter = loadavg()[0] as number;

    const header =
      `syscontainer bench (${quick ? 'quick' : 'full'}): ${runs} runs each, alternating, medians; ratio = syscontainer / podman; ` +
      `podman storage driver ${podmanDriver}; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (${(await run('nproc')).stdout.trim()} CPUs)\n` +
      `large image: ${(images.large.compressedBytes / MiB).toFixed(0)} MiB gzip in ${images.large.layers.length} layers, ` +
      `${(images.large.uncompressedBytes / MiB).toFixed(0)} MiB tar, ${images.large.fileEntries} file entries\n`;
    // One table per section, each with its own floor heading (skopeo unless the measurement names another).
    const floorLabels: Record<string, string> = Object.assign({}, ...selected.map((m) => m.floorLabels ?? {}));
    const tables = [...new Set(rows.map((row) => row.section))].map((section) => formatTables(rows.filter((row) => row.section === section), floorLabels[section]));
    const failed = failures.map((f) => `section ${f.section} failed: ${f.error.split('\n')[0]}\n`).join('');
    process.stdout.write(`${header}\n${tables.join('')}${failed === '' ? '' : `\n${failed}`}`);

    const resultsDir = join(repoRoot, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${quick ? 'quick' : 'full'}.json`);
    const { stdout: host } = await run('uname', ['-srm']);
    await writeFile(
      file,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          host: host.trim(),
          cpus: (await run('nproc')).stdout.trim(),
          quick,
          runs,
          podmanDriver,
          loadAverage: { before: loadBefore, after: loadAfter },
          images: { large: images.large, sibling: images.sibling },
          rows,
          failures,
        },
        null,
        2,
      ),
    );
    log(`results: ${file}`);
    if (failures.length > 0) throw new Error(`bench: ${failures.length} of ${selected.length} section(s) failed: ${failures.map((f) => f.section).join(', ')}`);
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`bench: ${message.replace(/^bench: /, '')}\n`);
  process.exitCode = 1;
});
