// The REST service as users run it, for integration tests: `syscontainer serve` (the built
// CLI) in its own process, its containers run by the systemd of a test harness, a busybox
// image in a real registry, and the docker CLI pointed at it. One per test file; stop() kills
// what it started, by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { buildImage, type ContainerConfig } from '../../images/build/image.js';
import { readHostFile } from '../../images/build/host-files.js';
import { pushBuiltImage } from '../../images/build/push-image.js';
import { fromHostFile, rootfsEntries } from '../../images/build/rootfs-entries.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { cliPath } from './cli.js';
import { stopMonitors } from './monitors.js';
import { startRegistry, type RegistryServer } from './registry-server.js';
import { SystemdHarness, testBaseDir } from './systemd-harness.js';

const applets = ['sh', 'cat', 'echo', 'sleep', 'true', 'false', 'ls', 'id', 'env', 'pwd'];

/** A busybox image (the host's static busybox) with `config`. */
export async function busyboxImage(config: ContainerConfig) {
  const busybox = await readHostFile('/bin/busybox', '/bin/busybox', "install Debian's busybox-static");
  return buildImage({
    config,
    layers: [
      {
        compression: 'gzip',
        entries: rootfsEntries([
          fromHostFile(busybox, 0o755),
          ...applets.map((a) => ({ type: 'symlink' as const, path: `/bin/${a}`, target: 'busybox' })),
          ...['/etc', '/tmp', '/proc', '/sys', '/dev', '/run', '/var/lib'].map((p) => ({ type: 'dir' as const, path: p, mode: 0o755 })),
          { type: 'file' as const, path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nsvc:x:1000:1000::/:/bin/false\n', mode: 0o644 },
          { type: 'file' as const, path: '/etc/group', content: 'root:x:0:\nsvc:x:1000:\n', mode: 0o644 },
        ]),
      },
    ],
  });
}

export interface ApiService {
  base: string;
  root: string;
  /** A directory any project may bind-mount (serve --allow-bind). */
  shared: string;
  socketPath: string;
  port: number;
  /** The service's process id. */
  pid: number;
  registry: RegistryServer;
  harness: SystemdHarness;
  /** REGISTRY/test/busybox:1 (Cmd: echo hello-from-busybox) */
  image: string;
  env: Record<string, string>;
  /** Runs the docker CLI against the unix socket (or TCP with a token and project in its config). */
  docker(args: string[], options?: { token?: string; project?: string; timeoutMs?: number; input?: string }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  cli(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Starts the service again (after it was killed); the harness and registry stay. */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

async function spawnService(s: { root: string; socketPath: string; env: Record<string, string>; logFile: string; allowBind: string }): Promise<{ child: ChildProcess; port: number }> {
  const { openSync, closeSync, statSync } = await import('node:fs');
  // Only what this start writes counts: the log keeps the lines of earlier starts.
  const offset = existsSync(s.logFile) ? statSync(s.logFile).size : 0;
  const fd = openSync(s.logFile, 'a');
  const child = spawn(process.execPath, [cliPath, '--root', s.root, 'serve', '--listen', `unix:${s.socketPath}`, '--listen', 'tcp:127.0.0.1:0', '--allow-bind', s.allowBind], {
    env: { ...process.env, ...s.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const { readFile } = await import('node:fs/promises');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const log = (await readFile(s.logFile).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8');
    const found = [...log.matchAll(/listening on tcp:127\.0\.0\.1:(\d+)/g)].at(-1);
    if (found !== undefined && existsSync(s.socketPath) && child.exitCode === null) return { child, port: Number(found[1]) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`syscontainer serve did not start: ${log.slice(-2000)}`);
    await sleep(100);
  }
}

export async function startApiService(label: string, images: Record<string, ContainerConfig> = {}): Promise<ApiService> {
  const base = await testBaseDir(`${label}-${process.pid}`);
  const harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
  // Assigned onto the service, not spread: its port and pid are getters (they change on restart).
  return Object.assign(await startService(base, images, harness), { harness });
}

/** The service where no systemd runs (a build box, CI): its containers run under their monitors (runc-direct). */
export async function startApiServiceWithoutSystemd(label: string, images: Record<string, ContainerConfig> = {}): Promise<Omit<ApiService, 'harness'>> {
  return startService(await testBaseDir(`${label}-${process.pid}`), images, undefined);
}

async function startService(base: string, images: Record<string, ContainerConfig>, harness: SystemdHarness | undefined): Promise<Omit<ApiService, 'harness'>> {
  const root = path.join(base, 'root');
  const units = path.join(base, 'units');
  const shared = path.join(base, 'shared');
  for (const dir of [root, units, shared, path.join(base, 'tmpfiles'), path.join(base, 'docker')]) await mkdir(dir, { recursive: true });
  let registry: RegistryServer | undefined;
  try {
    registry = await startRegistry();
    const push = new RegistryPush({ registry: registry.host, conf: defaultRegistriesConf() });
    const all: Record<string, ContainerConfig> = { busybox: { Cmd: ['/bin/sh', '-c', 'echo hello-from-busybox'] }, ...images };
    for (const [name, config] of Object.entries(all)) await pushBuiltImage(push, `test/${name}`, '1', await busyboxImage(config));
    const env: Record<string, string> = {
      ...(harness !== undefined ? { SYSCONTAINER_SYSTEMD_NSENTER_PID: String(harness.pid) } : {}),
      SYSCONTAINER_UNIT_DIR: units,
      SYSCONTAINER_TMPFILES_DIR: path.join(base, 'tmpfiles'),
      SYSCONTAINER_REGISTRIES_CONF: '/nonexistent/registries.conf',
      SYSCONTAINER_SETTLE_MS: '500',
    };
    const socketPath = path.join(base, 'api.sock');
    const logFile = path.join(base, 'serve.log');
    let running = await spawnService({ root, socketPath, env, logFile, allowBind: shared });
    const dockerConfig = (token?: string, project?: string) => path.join(base, 'docker', `${token === undefined ? 'plain' : `${project}-${token.slice(-8)}`}`);
    const reg = registry;
    const service: Omit<ApiService, 'harness'> = {
      base,
      root,
      shared,
      socketPath,
      get port() {
        return running.port;
      },
      get pid() {
        return running.child.pid ?? 0;
      },
      registry: reg,
      image: `${reg.host}/test/busybox:1`,
      env,
      async docker(args, options = {}) {
        const config = dockerConfig(options.token, options.project);
        await mkdir(config, { recursive: true });
        const headers = options.token === undefined ? {} : { HttpHeaders: { 'X-Auth-Token': options.token, ...(options.project !== undefined ? { 'X-Auth-Project-Id': options.project } : {}) } };
        await writeFile(path.join(config, 'config.json'), JSON.stringify(headers));
        const host = options.token === undefined ? `unix://${socketPath}` : `tcp://127.0.0.1:${running.port}`;
        const result = await execa('docker', args, {
          reject: false,
          env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: config, DOCKER_HOST: host, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' },
          extendEnv: false,
          timeout: options.timeoutMs ?? 60_000,
          ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
        });
        return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
      },
      async cli(args) {
        const result = await execa(process.execPath, [cliPath, '--root', root, ...args], { reject: false, env, stdin: 'ignore' });
        return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
      },
      async restart() {
        if (running.child.exitCode === null && running.child.signalCode === null) await service.kill('SIGTERM');
        running = await spawnService({ root, socketPath, env, logFile, allowBind: shared });
      },
      async kill(signal = 'SIGKILL') {
        const child = running.child;
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        try {
          process.kill(child.pid, signal);
        } catch (error) {
          throw new Error(`kill ${child.pid} (${signal}): ${(error as Error).message}; exit code ${child.exitCode}, signal ${child.signalCode}, ${await execa('ps', ['-o', 'pid,stat,cmd', '-p', String(child.pid)], { reject: false }).then((r) => r.stdout)}`);
        }
        await exited;
      },
      async stop() {
        await service.kill('SIGTERM').catch(() => undefined);
        await harness?.stop();
        await reg.stop();
        // Without systemd its containers run under monitors, which would restart them from a half-deleted root.
        await stopMonitors({ under: base });
        if (process.env.SYSCONTAINER_TEST_KEEP_LOG) await execa('cp', [logFile, process.env.SYSCONTAINER_TEST_KEEP_LOG], { reject: false });
        await rm(base, { recursive: true, force: true });
        // The harness' systemd made the units' cgroups in the shared hierarchies: remove empty ones.
        // Test containers are named tc<pid>…: only theirs are touched.
        await execa('sh', ['-c', `for d in /sys/fs/cgroup/*/system.slice /sys/fs/cgroup/system.slice; do for u in "$d"/tc${process.pid}*.service; do rmdir "$u/container" "$u" 2>/dev/null; done; done; true`], { reject: false });
      },
    };
    return service;
  } catch (error) {
    await harness?.stop();
    await registry?.stop();
    throw error;
  }
}
