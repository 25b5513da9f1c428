// Runs the built CLI the way a user does: a separate process, argv, exit code, stdout/stderr.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';

export const cliPath = fileURLToPath(new URL('../../syscontainer.mjs', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const result = await execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { SYSCONTAINER_REGISTRIES_CONF: '/nonexistent/registries.conf', ...env },
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: ExecutionContext, prefix = 'syscontainer-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
