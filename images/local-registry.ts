// A long-lived local registry for the quickstart and the benchmark: Debian's docker-registry
// on 127.0.0.1 with its storage in a state directory, outliving the process that started it.
// Started once and reused: a live pid in the pid file whose /v2/ answers means it runs.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { SyscontainerError } from '../common/errors.js';

export interface LocalRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  pid: number;
  /** True when this call started it, false when it was already running. */
  started: boolean;
}

const registryBinary = '/usr/bin/docker-registry';

function answers(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(`http://${host}/v2/`, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.setTimeout(1_000, () => request.destroy());
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function recordedPid(stateDir: string): Promise<number | undefined> {
  const text = await readFile(join(stateDir, 'registry.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Starts the registry unless the one recorded in `stateDir` is running. Idempotent. */
export async function ensureLocalRegistry(stateDir: string, port: number): Promise<LocalRegistry> {
  const host = `127.0.0.1:${port}`;
  const pid = await recordedPid(stateDir);
  if (pid !== undefined && alive(pid) && (await answers(host))) return { host, pid, started: false };
  if (await answers(host)) {
    throw new SyscontainerError('EEXIST', `something else already answers on ${host}`, {
      hint: 'stop it, or choose another port with --port',
    });
  }
  await mkdir(join(stateDir, 'registry'), { recursive: true });
  const config = join(stateDir, 'registry.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(stateDir, 'registry')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const log = openSync(join(stateDir, 'registry.log'), 'a');
  const child = spawn(registryBinary, ['serve', config], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  const deadline = Date.now() + 15_000;
  while (!(await answers(host))) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100))]);
    if (failed || child.exitCode !== null || Date.now() > deadline) {
      if (child.pid !== undefined && alive(child.pid)) process.kill(child.pid, 'SIGTERM');
      throw new SyscontainerError('ERUNTIME', `docker-registry did not start on ${host}`, {
        cause: failed,
        hint: `see ${join(stateDir, 'registry.log')}`,
      });
    }
  }
  await writeFile(join(stateDir, 'registry.pid'), `${child.pid}\n`);
  return { host, pid: child.pid as number, started: true };
}

/** Stops the registry recorded in `stateDir` (by its pid) and forgets it; its storage stays. */
export async function stopLocalRegistry(stateDir: string): Promise<boolean> {
  const pid = await recordedPid(stateDir);
  await rm(join(stateDir, 'registry.pid'), { force: true });
  if (pid === undefined || !alive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 50 && alive(pid); waited++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}
