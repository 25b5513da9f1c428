// Start latency: from spawning the start command to the container's first line of output,
// for the container `syscontainer install` made from the large image (its command prints
// "bench ready" at once, then sleeps). Contenders, alternating run by run after one untimed
// warm-up round:
//   syscontainer start  the CLI (without systemd it runs `runc run -d`, output appended to
//                       DEPLOYMENT/container.log, and waits 2 s to see the container stay up);
//                       timed to the line in container.log, and to the CLI's exit
//   unit ExecStart      the command line of the rendered unit's ExecStart= run directly (what
//                       systemd would run; its ExecStartPre `runc delete` is done untimed)
//   bare runc           `runc run --bundle DEPLOYMENT NAME-bare`: the floor
//   podman run          `podman run --rm IMAGE /bin/busybox echo bench ready` (image pulled before)
// Containers are stopped and deleted between runs (syscontainer stop, which ends the monitor,
// then runc delete --force; podman rm -f).
// Only the path without systemd: with systemd running, `syscontainer start` would ask systemd
// for a unit it was never given (the bench keeps units out of /etc), so that contender is left
// out then.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { logMessages } from '../runtime/supervisor/container-log.js';
import { stopMonitors } from '../test/helpers/monitors.js';
import { readyLine } from './bench-images.js';
import type { BenchContext, Measurement } from './context.js';
import { expectOutput } from './measure-cold-pull.js';
import { measureCommand, type CommandSpec } from './runner.js';
import { figure, type Row } from './table.js';
import {
  freshDir,
  freshHostFileDirs,
  podmanPull,
  podmanRemove,
  podmanRun,
  removeContainerCgroups,
  removeTree,
  runcDelete,
  syscontainer,
  syscontainerInstall,
  syscontainerPull,
  syscontainerStop,
} from './tools.js';

const run = promisify(execFile);
export const startSection = 'start: spawn to the first line of output';
const firstLineTimeoutMs = 30_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Seconds since spawn. */
  at: number;
}

interface Launched {
  /** Seconds since spawn at which the first complete line appeared, and the line. */
  firstLine: Promise<{ at: number; line: string }>;
  exit: Promise<Exit>;
  /** stderr so far, for error messages. */
  stderr(): string;
  kill(): void;
}

/**
 * Spawns `spec` and watches for the first complete line of output, on the command's stdout or
 * appended to `file` (which must exist). The file is watched with inotify, with a 10 ms poll
 * behind it in case an event is missed. firstLine rejects when stdout ends without a line, when
 * the command exits and the file has none a second later, or after firstLineTimeoutMs; the
 * caller kills (kill()) and deletes the container.
 */
function launch(spec: CommandSpec, source: { stdout: true } | { file: string }): Launched {
  const started = process.hrtime.bigint();
  const since = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  const child = spawn(spec.argv[0] as string, spec.argv.slice(1), { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, at: since() }));
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));

  const firstLine = new Promise<{ at: number; line: string }>((resolve, reject) => {
    const cleanups: (() => void)[] = [];
    const finish = (result: { at: number; line: string } | Error): void => {
      for (const cleanup of cleanups.splice(0)) cleanup();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(new Error(`${spec.argv.join(' ')}: no line of output after ${firstLineTimeoutMs / 1000} s`)), firstLineTimeoutMs);
    cleanups.push(() => clearTimeout(timer));
    const lineIn = (text: string): string | undefined => (text.includes('\n') ? text.slice(0, text.indexOf('\n')) : undefined);

    if ('stdout' in source) {
      const onData = (): void => {
        const line = lineIn(stdout);
        if (line !== undefined) finish({ at: since(), line });
      };
      // 'end' comes after the last 'data': stdout closed (every holder gone) without a line.
      const onEnd = (): void => finish(new Error(`${spec.argv.join(' ')}: output ended without a line\n  ${stderr.trim().split('\n').slice(-5).join('\n  ')}`));
      child.stdout.on('data', onData);
      child.stdout.once('end', onEnd);
      cleanups.push(() => child.stdout.off('data', onData), () => child.stdout.off('end', onEnd));
      exit.catch((error: Error) => finish(error));
      return;
    }
    const file = source.file;
    let reading = false;
    const check = (): void => {
      if (reading) return;
      reading = true;
      readFile(file, 'utf8').then(
        (text) => {
          reading = false;
          // The container's log: its lines stamped with time and stream.
          const line = lineIn(logMessages(text.slice(0, text.lastIndexOf('\n') + 1)));
          if (line !== undefined) finish({ at: since(), line });
        },
        () => (reading = false),
      );
    };
    const watcher = watch(file, check);
    const poll = setInterval(check, 10);
    cleanups.push(() => watcher.close(), () => clearInterval(poll));
    void exit.then(
      (e) => {
        const grace = setTimeout(() => finish(new Error(`${spec.argv.join(' ')}: exited (${e.code ?? e.signal}) and ${file} has no line\n  ${stderr.trim().split('\n').slice(-5).join('\n  ')}`)), 1000);
        cleanups.push(() => clearTimeout(grace));
      },
      (error: Error) => finish(error),
    );
  });
  return { firstLine, exit, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}

/** Waits for `launched` to exit, at most `ms`; kills it after that. */
async function exitWithin(launched: Launched, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const result = await Promise.race([launched.exit, timeout]);
  clearTimeout(timer);
  if (result !== undefined) return result;
  launched.kill();
  return launched.exit;
}

interface StartSample {
  firstLine: number;
  /** Seconds to the command's exit, when it exits by itself (syscontainer start, podman run --rm). */
  exit?: number;
}

interface StartContender {
  name: string;
  /** Untimed: clear what a previous run left. */
  prepare(): Promise<void>;
  /** One timed start; leaves the container for cleanup. */
  start(run: number): Promise<StartSample>;
  /** Untimed: stop and delete what start made, by id. */
  cleanup(run: number): Promise<void>;
}

function expectReady(who: string, line: string): void {
  if (line !== readyLine) throw new Error(`${who}: first line ${JSON.stringify(line)}, expected ${JSON.stringify(readyLine)}`);
}

/** A contender whose command is `runc run` in the foreground: the container's output is its stdout. */
function foregroundRunc(name: string, argv: string[], containerId: string): StartContender {
  let launched: Launched | undefined;
  return {
    name,
    prepare: () => runcDelete(containerId),
    async start() {
      launched = launch({ argv }, { stdout: true });
      const { at, line } = await launched.firstLine;
      expectReady(name, line);
      return { firstLine: at };
    },
    async cleanup() {
      await runcDelete(containerId);
      if (launched) await exitWithin(launched, 10_000);
      launched = undefined;
    },
  };
}

/** systemctl is-system-running says whether systemd runs here (as the CLI asks it). */
async function systemdRunning(): Promise<boolean> {
  const answer = await run('systemctl', ['is-system-running']).then(
    (r) => r.stdout.trim(),
    (error: { stdout?: string }) => String(error.stdout ?? '').trim(),
  );
  return answer !== '' && answer !== 'offline' && answer !== 'unknown';
}

/** The command line of the unit's `ExecStart=`, without systemd's prefixes (-, @, +, !, :). */
function execStartOf(unitText: string, unitPath: string): string[] {
  const lines = unitText.split('\n').filter((line) => line.startsWith('ExecStart='));
  if (lines.length !== 1) throw new Error(`bench: ${unitPath}: expected one ExecStart= line, found ${lines.length}`);
  const command = (lines[0] as string).slice('ExecStart='.length).trim().replace(/^[-@+!:]+/, '');
  if (/["'\\$%]/.test(command)) throw new Error(`bench: ${unitPath}: ExecStart= needs systemd's quoting or expansion, which the bench does not do: ${command}`);
  const words = command.split(/\s+/);
  // systemd-cat only connects the output to the journal and execs the rest; without systemd
  // there is no journal to connect to (it fails: "Failed to create stream fd"), so the bench
  // times what it execs. Its own cost is one exec and one connect.
  if (words[0]?.endsWith('/systemd-cat')) {
    const rest = words.slice(1);
    while (rest[0]?.startsWith('--')) rest.shift();
    return rest;
  }
  return words;
}

export const start: Measurement = {
  name: 'start',
  floorLabels: { [startSection]: 'bare runc' },
  async run(ctx: BenchContext) {
    const ref = ctx.refs.large;
    const runs = Math.max(ctx.runs, 5);
    const tag = randomBytes(3).toString('hex');
    const name = `bench-${tag}-start`;
    const bareId = `${name}-bare`;
    ctx.log(`start latency of ${ref} installed as ${name}, ${runs} runs each after a warm-up round`);
    const sysRoot = await freshDir(ctx.workDir, 'start-syscontainer');
    const hostDirs = await freshHostFileDirs(ctx.workDir, 'start-hostfiles');
    const podRoot = await freshDir(ctx.workDir, 'start-podman');
    let cgroupsPath: string | undefined;
    const podmanName = (run: number) => `bench-${tag}-podman-${run < 0 ? 'warm' : run}`;
    try {
      expectOutput('syscontainer pull', ctx.images.large.manifestDigest)(await measureCommand(syscontainerPull(ctx.cli, sysRoot, ref), ctx.workDir));
      await measureCommand(syscontainerInstall(ctx.cli, sysRoot, hostDirs, name, ref), ctx.workDir);
      expectOutput('podman pull', ctx.images.large.configDigest.slice('sha256:'.length))(await measureCommand(podmanPull(ctx.podmanDriver, podRoot, ref), ctx.workDir));
      const deployment = await realpath(join(sysRoot, name));
      const unitPath = join(deployment, `${name}.service`);
      const execStart = execStartOf(await readFile(unitPath, 'utf8'), unitPath);
      cgroupsPath = (JSON.parse(await readFile(join(deployment, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } }).linux?.cgroupsPath;
      ctx.log(`  ExecStart: ${execStart.join(' ')}`);
      const logFile = join(deployment, 'container.log');

      const contenders: StartContender[] = [];
      const withSystemd = await systemdRunning();
      if (withSystemd) ctx.log('  systemd is running: syscontainer start would go through systemd; that contender is left out');
      else {
        let launched: Launched | undefined;
        contenders.push({
          name: 'syscontainer start',
          async prepare() {
            await runcDelete(name);
            await writeFile(logFile, '');
          },
          async start() {
            launched = launch(syscontainer(ctx.cli, sysRoot, hostDirs, ['start', name]), { file: logFile });
            const { at, line } = await launched.firstLine;
            expectReady('syscontainer start', line);
            const exit = await exitWithin(launched, 30_000);
            if (exit.code !== 0) throw new Error(`syscontainer start ${name}: exit ${exit.code ?? exit.signal}\n  ${launched.stderr().trim()}`);
            return { firstLine: at, exit: exit.at };
          },
          async cleanup() {
            if (launched) await exitWithin(launched, 30_000);
            launched = undefined;
            await syscontainerStop(ctx.cli, sysRoot, hostDirs, name);
            await runcDelete(name);
          },
        });
      }
      contenders.push(foregroundRunc('unit ExecStart', execStart, execStart[execStart.length - 1] as string));
      contenders.push(foregroundRunc('bare runc', ['runc', 'run', '--bundle', deployment, bareId], bareId));
      {
        let launched: Launched | undefined;
        contenders.push({
          name: 'podman run',
          prepare: async () => undefined,
          async start(run) {
            launched = launch(podmanRun(ctx.podmanDriver, podRoot, podmanName(run), ref, ['/bin/busybox', 'echo', readyLine]), { stdout: true });
            const { at, line } = await launched.firstLine;
            expectReady('podman run', line);
            const exit = await exitWithin(launched, 30_000);
            if (exit.code !== 0) throw new Error(`podman run: exit ${exit.code ?? exit.signal}\n  ${launched.stderr().trim()}`);
            return { firstLine: at, exit: exit.at };
          },
          async cleanup(run) {
            if (launched) await exitWithin(launched, 30_000);
            launched = undefined;
            await podmanRemove(ctx.podmanDriver, podRoot, podmanName(run));
          },
        });
      }

      // Alternating as runner.alternate does, but to the first line rather than to the exit.
      const samples: Record<string, StartSample[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
      for (let round = -1; round < runs; round++) {
        const shift = Math.max(round, 0);
        const order = contenders.map((_, i) => contenders[(i + shift) % contenders.length] as StartContender);
        for (const contender of order) {
          await contender.prepare();
          try {
            const sample = await contender.start(round);
            if (round >= 0) samples[contender.name]!.push(sample);
            ctx.log(`  ${round < 0 ? 'warm-up' : `run ${round + 1}/${runs}`} ${contender.name}: first line at ${(sample.firstLine * 1000).toFixed(0)} ms`);
          } finally {
            await contender.cleanup(round);
          }
        }
      }

      const first = (contender: string) => figure((samples[contender] ?? []).map((s) => s.firstLine));
      const bare = first('bare runc');
      const podman = first('podman run');
      const times = (f: ReturnType<typeof figure>) => `${(f.median / bare.median).toFixed(2)}x bare runc`;
      const rows: Row[] = [];
      if (!withSystemd) {
        const cli = first('syscontainer start');
        rows.push({
          section: startSection,
          measurement: 'syscontainer start (CLI)',
          unit: 's',
          syscontainer: cli,
          podman,
          floor: bare,
          note: `${times(cli)}; podman run ${times(podman)}; line in container.log`,
        });
      }
      const unit = first('unit ExecStart');
      rows.push({
        section: startSection,
        measurement: "unit's ExecStart, run directly",
        unit: 's',
        syscontainer: unit,
        podman,
        floor: bare,
        note: `${times(unit)}; ${execStart[0]} run --bundle DEPLOYMENT NAME`,
      });
      if (!withSystemd) {
        rows.push({
          section: startSection,
          measurement: 'syscontainer start, to its exit',
          unit: 's',
          syscontainer: figure((samples['syscontainer start'] ?? []).map((s) => s.exit ?? NaN)),
          podman: figure((samples['podman run'] ?? []).map((s) => s.exit ?? NaN)),
          note: 'the CLI waits 2 s to see it stay up; podman: echo done, --rm',
        });
      }
      return rows;
    } finally {
      // The monitor first (it would restart a container deleted under it), then what is left.
      await syscontainerStop(ctx.cli, sysRoot, hostDirs, name).catch(() => undefined);
      await stopMonitors({ under: sysRoot });
      await runcDelete(name).catch(() => undefined);
      await runcDelete(bareId).catch(() => undefined);
      if (cgroupsPath !== undefined) await removeContainerCgroups(cgroupsPath, name);
      await removeTree(podRoot);
      await removeTree(sysRoot);
      await removeTree(join(hostDirs.unitDir, '..'));
    }
  },
};
