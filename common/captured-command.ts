// A short command run to completion with its output captured: what the tool wrappers (runc,
// systemctl, journalctl) call on the hot paths of status, list and a health check. Plain
// child_process rather than execa: execa costs ~50 ms to load and more per call, and these
// calls need nothing of it. The result reads like execa's with `reject: false` (exit code,
// output without its final newline, `failed`, a short message), so callers treat both alike.
import { spawn } from 'node:child_process';

export interface CapturedCommand {
  /** Undefined when the command could not be started or was killed by a signal. */
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** Not started, killed, output too large, or a non-zero exit. */
  failed: boolean;
  /** The start error's code (ENOENT, EACCES, …) when it could not be started. */
  code?: string;
  /** One line: what failed and how. */
  shortMessage: string;
}

export interface CaptureOptions {
  /** Added to the environment of this process. */
  env?: Record<string, string>;
  /** Bytes of stdout and of stderr kept at most; more kills the command (default 100 MiB). */
  maxBuffer?: number;
}

const withoutFinalNewline = (text: string) => text.replace(/\r?\n$/, '');

/** Runs `file args…` with stdin closed; never rejects. */
export function capture(file: string, args: readonly string[], options: CaptureOptions = {}): Promise<CapturedCommand> {
  const maxBuffer = options.maxBuffer ?? 100 * 1024 * 1024;
  const line = [file, ...args].join(' ');
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
    const output = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let tooLarge: string | undefined;
    let startError: NodeJS.ErrnoException | undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => {
        sizes[stream] += chunk.length;
        if (sizes[stream] > maxBuffer) {
          tooLarge ??= stream;
          child.kill();
          return;
        }
        output[stream].push(chunk);
      });
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      startError = error;
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      const stdout = withoutFinalNewline(Buffer.concat(output.stdout).toString('utf8'));
      const stderr = withoutFinalNewline(Buffer.concat(output.stderr).toString('utf8'));
      const exitCode = startError === undefined && code !== null ? code : undefined;
      const failed = startError !== undefined || tooLarge !== undefined || exitCode !== 0;
      const shortMessage =
        startError !== undefined
          ? `Command failed with ${startError.code ?? startError.message}: ${line}`
          : tooLarge !== undefined
            ? `Command's ${tooLarge} was larger than ${maxBuffer} bytes: ${line}`
            : signal !== null
              ? `Command was killed with ${signal}: ${line}`
              : `Command failed with exit code ${code}: ${line}`;
      resolve({
        exitCode,
        signal: signal ?? undefined,
        stdout,
        stderr,
        failed,
        ...(startError?.code !== undefined ? { code: startError.code } : {}),
        shortMessage: failed ? shortMessage : '',
      });
    });
  });
}
