// A child process with its output captured (bounded) and a deadline, for the health runner.
// node:child_process directly rather than execa: `healthcheck run` starts every interval on
// every host and loading execa costs more than the check.
import { spawn } from 'node:child_process';

export interface ProcessResult {
  /** Exit code; -1 when killed at the deadline or by a signal. */
  exitCode: number;
  /** stdout then stderr, each kept up to `maxBytes`. */
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

export interface RunProcessOptions {
  timeoutMs?: number;
  maxBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Called once the deadline passed, before the child itself is killed (e.g. to kill what it started elsewhere). */
  onTimeout?: () => Promise<void>;
  /** Written to the child's stdin (default: none, stdin is /dev/null). */
  input?: string;
}

function collector(maxBytes: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk: Buffer) {
      if (size >= maxBytes) return;
      chunks.push(chunk.subarray(0, maxBytes - size));
      size += Math.min(chunk.length, maxBytes - size);
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** Runs `file args`; never rejects: what went wrong is in the result. */
export function runProcess(file: string, args: readonly string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  const maxBytes = options.maxBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    const stdout = collector(maxBytes);
    const stderr = collector(maxBytes);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const child = spawn(file, [...args], { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
    child.stdout?.on('data', (c: Buffer) => stdout.add(c));
    child.stderr?.on('data', (c: Buffer) => stderr.add(c));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: -1, stdout: '', stderr: '', timedOut: false, spawnError: error });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut || code === null ? -1 : code, stdout: stdout.text(), stderr: stderr.text(), timedOut });
    });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        void (options.onTimeout ?? (async () => undefined))()
          .catch(() => undefined)
          .then(() => {
            // What was asked to die has a moment to; then the child goes, whatever it waits for.
            setTimeout(() => child.kill('SIGKILL'), 500).unref();
          });
      }, options.timeoutMs);
    }
  });
}
