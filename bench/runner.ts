// The shared runner: runs a command under GNU time with a /proc sampler beside it, and
// alternates several contenders run by run (rotating who goes first) so that drift on a
// shared, noisy machine hits all of them alike. Medians, never means.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleTree, type TreeUsage } from './proc-sampler.js';

export const timeBinary = '/usr/bin/time';

export interface CommandSpec {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Exit statuses besides 0 that are the command's expected answer (healthcheck run's 125: not running). */
  expectedExits?: readonly number[];
}

export interface Sample extends TreeUsage {
  /** Wall seconds, spawn to exit. */
  wall: number;
  /** User and system seconds of the command and the children it waited for (GNU time). */
  user: number;
  sys: number;
  /** Peak RSS of the largest single process of the tree, bytes (GNU time %M). */
  maxRssBytes: number;
  stdout: string;
  /** stderr lines with the seconds since spawn at which each arrived. */
  stderrLines: { at: number; line: string }[];
}

export class CommandFailed extends Error {}

/** Runs `spec` to completion; throws CommandFailed (with the stderr tail) on a non-zero exit it does not expect. */
export async function measureCommand(spec: CommandSpec, scratchDir: string): Promise<Sample> {
  const dir = await mkdtemp(join(scratchDir, 'time-'));
  const timeFile = join(dir, 'time');
  try {
    const started = process.hrtime.bigint();
    const since = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const child = spawn(timeBinary, ['-f', '%e %U %S %M', '-o', timeFile, ...spec.argv], {
      env: { ...process.env, ...spec.env },
      cwd: spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sampler = sampleTree(child.pid as number);
    let stdout = '';
    let partial = '';
    const stderrLines: Sample['stderrLines'] = [];
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) stderrLines.push({ at: since(), line });
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode ?? -1));
    });
    const wall = since();
    const usage = await sampler.stop();
    if (partial) stderrLines.push({ at: wall, line: partial });
    if (code !== 0 && !(spec.expectedExits ?? []).includes(code)) {
      const tail = stderrLines.slice(-8).map((l) => l.line).join('\n  ');
      throw new CommandFailed(`${spec.argv.join(' ')}: exit ${code}\n  ${tail}`);
    }
    // GNU time writes "Command exited with non-zero status" first on failure; here the last line.
    const fields = (await readFile(timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
    return { ...usage, wall, user: fields[1] ?? NaN, sys: fields[2] ?? NaN, maxRssBytes: (fields[3] ?? NaN) * 1024, stdout, stderrLines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One side of a comparison. prepare/cleanup are not timed. */
export interface Contender {
  name: string;
  /** Called before each timed run (e.g. make a fresh storage dir). */
  prepare?(run: number): Promise<void>;
  command(run: number): CommandSpec;
  /** Called after each successful run, before cleanup: check the output, take extra figures. */
  inspect?(run: number, sample: Sample): Promise<void> | void;
  cleanup?(run: number): Promise<void>;
}

/**
 * Runs every contender `runs` times, alternating: run i starts with contender i mod n.
 * Returns the samples per contender name, in run order.
 */
export async function alternate(
  contenders: Contender[],
  runs: number,
  scratchDir: string,
  log: (line: string) => void,
): Promise<Record<string, Sample[]>> {
  const samples: Record<string, Sample[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let run = 0; run < runs; run++) {
    const order = contenders.map((_, i) => contenders[(i + run) % contenders.length] as Contender);
    for (const contender of order) {
      await contender.prepare?.(run);
      try {
        const sample = await measureCommand(contender.command(run), scratchDir);
        await contender.inspect?.(run, sample);
        samples[contender.name]!.push(sample);
        log(`  run ${run + 1}/${runs} ${contender.name}: ${sample.wall.toFixed(2)} s`);
      } finally {
        await contender.cleanup?.(run);
      }
    }
  }
  return samples;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Times an in-process async function (for floors measured inside the bench process). */
export async function timeIt(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
