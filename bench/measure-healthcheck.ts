// One health check: what each container's timer starts every interval, on every host, for as
// long as the container runs. The container is the large image installed with
// `--health-cmd '["/bin/busybox","true"]'` (a check that costs nothing itself) and started
// by `syscontainer start` (runc-direct). Contenders, alternating run by run:
//   light entry      dist/syscontainer-healthcheck.mjs --root ROOT healthcheck run NAME: what
//                    the timer's NAME-healthcheck.service runs
//   full CLI         syscontainer healthcheck run NAME: the same, by hand
//   podman           podman healthcheck run NAME of the same image and command
//   runc exec        runc exec NAME /bin/busybox true: the check alone
//   node start-up    node -e 0: what any entry written in Node pays
// The goal: the light entry within 1.5x of runc exec + node start-up. CPU is user + system of
// the command and every child it waited for (GNU time), per check and per day at a 30 s
// interval. With systemd running the container would be started through it (the bench keeps
// units out of /etc), so the measurement is left out then.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext, Measurement } from './context.js';
import { alternate, measureCommand, type Contender, type Sample } from './runner.js';
import { figure, MiB, type Figure, type Row } from './table.js';
import { freshDir, freshHostFileDirs, podmanGlobal, podmanPull, podmanRemove, removeContainerCgroups, removeTree, runcDelete, syscontainer, syscontainerPull, syscontainerStop } from './tools.js';
import { stopMonitors } from '../test/helpers/monitors.js';

const run = promisify(execFile);
export const healthcheckSection = 'healthcheck run: one check, as a timer starts it';
const check = ['/bin/busybox', 'true'];
const checksPerDay = (24 * 3600) / 30;

async function systemdRunning(): Promise<boolean> {
  const answer = await run('systemctl', ['is-system-running']).then(
    (r) => r.stdout.trim(),
    (error: { stdout?: string }) => String(error.stdout ?? '').trim(),
  );
  return answer !== '' && answer !== 'offline' && answer !== 'unknown';
}

/** Pairwise sums of two contenders' samples (run i of each): the floor made of two commands. */
function summed(a: readonly number[], b: readonly number[]): Figure {
  return figure(a.map((value, i) => value + (b[i] ?? NaN)));
}

const cpu = (samples: readonly Sample[]) => samples.map((s) => s.user + s.sys);
const wall = (samples: readonly Sample[]) => samples.map((s) => s.wall);

export const healthcheck: Measurement = {
  name: 'healthcheck',
  floorLabels: { [healthcheckSection]: 'runc exec+node' },
  async run(ctx: BenchContext) {
    if (await systemdRunning()) {
      ctx.log('healthcheck: systemd is running here, so the container would start through it; measurement left out');
      return [];
    }
    const ref = ctx.refs.large;
    const runs = Math.max(ctx.runs, 10);
    const tag = randomBytes(3).toString('hex');
    const name = `bench-${tag}-hc`;
    const podmanName = `bench-${tag}-hc-podman`;
    ctx.log(`healthcheck run of ${ref} installed as ${name}, ${runs} runs each`);
    const sysRoot = await freshDir(ctx.workDir, 'hc-syscontainer');
    const hostDirs = await freshHostFileDirs(ctx.workDir, 'hc-hostfiles');
    const podRoot = await freshDir(ctx.workDir, 'hc-podman');
    const light = join(ctx.cli, '..', 'syscontainer-healthcheck.mjs');
    let podman = true;
    let cgroupsPath: string | undefined;
    try {
      await measureCommand(syscontainerPull(ctx.cli, sysRoot, ref), ctx.workDir);
      await measureCommand(syscontainer(ctx.cli, sysRoot, hostDirs, ['install', '--system', '--name', name, '--no-start', '--health-cmd', JSON.stringify(check), ref]), ctx.workDir);
      const config = JSON.parse(await readFile(join(await realpath(join(sysRoot, name)), 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
      cgroupsPath = config.linux?.cgroupsPath;
      await measureCommand(syscontainer(ctx.cli, sysRoot, hostDirs, ['start', name]), ctx.workDir);
      try {
        await measureCommand(podmanPull(ctx.podmanDriver, podRoot, ref), ctx.workDir);
        // --health-interval=disable: no timer of podman's own runs the check between ours.
        const options = ['--runtime', 'runc', '--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
        await run('podman', [...podmanGlobal(ctx.podmanDriver, podRoot), 'run', '-d', ...options, '--name', podmanName, '--health-cmd', JSON.stringify(check), '--health-interval', 'disable', ref]);
      } catch (error) {
        podman = false;
        ctx.log(`  podman run -d failed here, podman's column stays empty: ${(error as Error).message.split('\n')[0]}`);
      }
      const env = syscontainer(ctx.cli, sysRoot, hostDirs, []).env ?? {};
      const contenders: Contender[] = [
        { name: 'light entry', command: () => ({ argv: [process.execPath, light, '--root', sysRoot, 'healthcheck', 'run', name], env }) },
        { name: 'full CLI', command: () => syscontainer(ctx.cli, sysRoot, hostDirs, ['healthcheck', 'run', name]) },
        { name: 'runc exec', command: () => ({ argv: ['runc', 'exec', name, ...check] }) },
        { name: 'node start-up', command: () => ({ argv: [process.execPath, '-e', '0'] }) },
        ...(podman ? [{ name: 'podman', command: () => ({ argv: ['podman', ...podmanGlobal(ctx.podmanDriver, podRoot), 'healthcheck', 'run', podmanName] }) }] : []),
      ];
      const samples = await alternate(contenders, runs, ctx.workDir, ctx.log);
      const of = (contender: string) => samples[contender] ?? [];
      const floorWall = summed(wall(of('runc exec')), wall(of('node start-up')));
      const floorCpu = summed(cpu(of('runc exec')), cpu(of('node start-up')));
      const podmanFigure = (values: number[]) => (podman ? figure(values) : undefined);
      const ratio = (f: Figure, floor: Figure) => `${(f.median / floor.median).toFixed(2)}x runc exec + node start-up`;
      const lightWall = figure(wall(of('light entry')));
      const lightCpu = figure(cpu(of('light entry')));
      const fullWall = figure(wall(of('full CLI')));
      const perDay = (f: Figure) => `${((f.median * checksPerDay) / 60).toFixed(1)} CPU-min per container per day at a 30 s interval`;
      const optional = <T>(value: T | undefined, key: string) => (value === undefined ? {} : { [key]: value });
      const rows: Row[] = [
        { section: healthcheckSection, measurement: 'light entry (the timer), wall', unit: 's', syscontainer: lightWall, ...optional(podmanFigure(wall(of('podman'))), 'podman'), floor: floorWall, note: `${ratio(lightWall, floorWall)} (goal: at most 1.5x)` },
        { section: healthcheckSection, measurement: 'light entry (the timer), CPU', unit: 's', syscontainer: lightCpu, ...optional(podmanFigure(cpu(of('podman'))), 'podman'), floor: floorCpu, note: `${ratio(lightCpu, floorCpu)}; ${perDay(lightCpu)}` },
        { section: healthcheckSection, measurement: 'full CLI, wall', unit: 's', syscontainer: fullWall, ...optional(podmanFigure(wall(of('podman'))), 'podman'), floor: floorWall, note: ratio(fullWall, floorWall) },
        {
          section: healthcheckSection,
          measurement: 'light entry, peak RSS',
          unit: 'MiB',
          syscontainer: figure(of('light entry').map((s) => s.maxRssBytes / MiB)),
          ...optional(podmanFigure(of('podman').map((s) => s.maxRssBytes / MiB)), 'podman'),
          note: 'largest single process (GNU time)',
        },
      ];
      return rows;
    } finally {
      // The monitor first (it would restart a container deleted under it), then what is left.
      await syscontainerStop(ctx.cli, sysRoot, hostDirs, name).catch(() => undefined);
      await stopMonitors({ under: sysRoot });
      await runcDelete(name).catch(() => undefined);
      if (cgroupsPath !== undefined) await removeContainerCgroups(cgroupsPath, name);
      if (podman) await podmanRemove(ctx.podmanDriver, podRoot, podmanName).catch(() => undefined);
      await removeTree(podRoot);
      await removeTree(sysRoot);
      await removeTree(join(hostDirs.unitDir, '..'));
    }
  },
};
