// The REST service against podman's docker-compatible service (`podman system service` on a
// unix socket), through the same clients: the docker CLI for `run -d` (create + start) and
// `run --rm IMAGE true`, and a plain HTTP client for GET /containers/json?all=1 with 50
// containers. Both services run here without systemd (syscontainer then runs containers with
// runc directly, as podman does), each with a private storage under the work dir, both on a
// small busybox image served by the bench registry. Alternating run by run.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, existsSync } from 'node:fs';
import http from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { pushBuiltImage } from '../images/build/push-image.js';
import { defaultRegistriesConf } from '../store/registry/registries-conf.js';
import { RegistryPush } from '../store/registry/push.js';
import { busyboxImage } from '../test/helpers/api-service.js';
import type { BenchContext, Measurement } from './context.js';
import { median } from './runner.js';
import { figure, type Row } from './table.js';
import { podmanGlobal } from './tools.js';

const section = 'REST service: docker CLI / HTTP against podman system service';
const listContainers = 50;

interface Service {
  name: 'syscontainer' | 'podman';
  socket: string;
  child: ChildProcess;
  /** Extra `docker run` flags the service needs here. */
  runFlags: string[];
}

/** Waits (up to 60 s) until the service on `socket` answers /_ping; throws with the end of its log when it does not. */
export async function waitForSocket(socket: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(existsSync(socket) && (await get(socket, '/_ping').then((r) => r.status === 200, () => false)))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`bench: service on ${socket} did not start: ${(await readFile(log, 'utf8').catch(() => '')).slice(-1000)}`);
    await sleep(100);
  }
}

function get(socket: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function startSyscontainer(ctx: BenchContext, image: string): Promise<Service> {
  const dir = join(ctx.workDir, 'api-syscontainer');
  for (const sub of ['root', 'units', 'tmpfiles']) await mkdir(join(dir, sub), { recursive: true });
  const env = {
    ...process.env,
    SYSCONTAINER_ROOT: join(dir, 'root'),
    SYSCONTAINER_UNIT_DIR: join(dir, 'units'),
    SYSCONTAINER_TMPFILES_DIR: join(dir, 'tmpfiles'),
    SYSCONTAINER_REGISTRIES_CONF: '/nonexistent/registries.conf',
  };
  await execa(process.execPath, [ctx.cli, 'pull', '-q', image], { env });
  const socket = join(dir, 'api.sock');
  const log = join(dir, 'serve.log');
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [ctx.cli, 'serve', '--listen', `unix:${socket}`], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await waitForSocket(socket, child, log);
  return { name: 'syscontainer', socket, child, runFlags: [] };
}

async function startPodman(ctx: BenchContext, image: string): Promise<Service> {
  const dir = join(ctx.workDir, 'api-podman');
  await mkdir(dir, { recursive: true });
  const global = [...podmanGlobal(ctx.podmanDriver, dir), '--runtime', 'runc'];
  await execa('podman', [...global, 'pull', '-q', '--tls-verify=false', image]);
  const socket = join(dir, 'podman.sock');
  const log = join(dir, 'service.log');
  const fd = openSync(log, 'a');
  const child = spawn('podman', [...global, 'system', 'service', '--time=0', `unix://${socket}`], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await waitForSocket(socket, child, log);
  // As the bench's other podman runs: the host's network, rlimits root may set here.
  return { name: 'podman', socket, child, runFlags: ['--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'] };
}

async function docker(service: Service, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await execa('docker', args, { env: { DOCKER_HOST: `unix://${service.socket}`, DOCKER_CLI_HINTS: 'false' }, reject: false, timeout: 120_000 });
  if (result.exitCode !== 0) throw new Error(`bench: docker ${args.join(' ')} against ${service.name}: exit ${result.exitCode}: ${String(result.stderr).slice(-500)}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopService(service: Pick<Service, 'child'>): Promise<void> {
  if (service.child.exitCode !== null || service.child.pid === undefined) return;
  const exited = new Promise((resolve) => service.child.once('exit', resolve));
  process.kill(service.child.pid, 'SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (service.child.exitCode === null && service.child.signalCode === null) process.kill(service.child.pid, 'SIGKILL');
}

export const api: Measurement = {
  name: 'api',
  async run(ctx: BenchContext): Promise<Row[]> {
    const push = new RegistryPush({ registry: ctx.registryHost, conf: defaultRegistriesConf() });
    await pushBuiltImage(push, 'bench/busybox', 'v1', await busyboxImage({ Cmd: ['/bin/sh', '-c', 'sleep 1000'] }));
    const image = `${ctx.registryHost}/bench/busybox:v1`;
    const services = [await startSyscontainer(ctx, image), await startPodman(ctx, image)];
    const samples: Record<string, Record<string, number[]>> = { 'run -d (create+start)': {}, 'run --rm IMAGE true': {}, [`GET /containers/json, ${listContainers} containers`]: {} };
    const add = (what: string, who: string, value: number) => ((samples[what]![who] ??= []).push(value));
    try {
      const runs = ctx.runs;
      for (let run = 0; run < runs; run++) {
        const order = run % 2 === 0 ? services : [...services].reverse();
        for (const service of order) {
          const name = `bench-api-${run}`;
          add('run -d (create+start)', service.name, await docker(service, ['run', '-d', ...service.runFlags, '--name', name, image]));
          await docker(service, ['rm', '-f', name]);
          add('run --rm IMAGE true', service.name, await docker(service, ['run', '--rm', ...service.runFlags, image, 'true']));
          ctx.log(`  run ${run + 1}/${runs} ${service.name}: run -d, run --rm`);
        }
      }
      // The listing: 50 created containers in each, then timed listings (alternating).
      // The goal is stated at 50 containers: --quick does not shrink the listing.
      const count = listContainers;
      for (const service of services) {
        for (let i = 0; i < count; i++) await docker(service, ['create', ...service.runFlags, '--name', `bench-list-${i}`, image]);
        ctx.log(`  ${service.name}: ${count} containers created`);
      }
      for (let run = 0; run < Math.max(5, runs * 3); run++) {
        for (const service of run % 2 === 0 ? services : [...services].reverse()) {
          const started = process.hrtime.bigint();
          const answer = await get(service.socket, '/v1.41/containers/json?all=1');
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const listed = (JSON.parse(answer.body) as unknown[]).length;
          if (answer.status !== 200 || listed < count) throw new Error(`bench: ${service.name} listed ${listed} of ${count} containers (${answer.status})`);
          add(`GET /containers/json, ${listContainers} containers`, service.name, seconds);
        }
      }
      for (const service of services) for (let i = 0; i < count; i++) await docker(service, ['rm', '-f', `bench-list-${i}`]).catch(() => undefined);
    } finally {
      for (const service of services) await stopService(service);
    }
    return Object.entries(samples).map(([measurement, by]) => ({
      section,
      measurement,
      unit: 's' as const,
      ...(by.syscontainer ? { syscontainer: figure(by.syscontainer) } : {}),
      ...(by.podman ? { podman: figure(by.podman) } : {}),
      note: measurement.startsWith('GET') ? `median ${((median(by.syscontainer ?? []) ?? 0) * 1000).toFixed(0)} ms (goal < 50 ms)` : 'docker CLI 28, wall time',
    }));
  },
};
