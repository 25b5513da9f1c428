// The REST service with the real docker CLI: version, pull from a real registry, run -d, ps,
// logs, exec, inspect, stop, rm; `docker run --rm` with both streams and the exit status;
// `docker wait` on an exited container. The containers are system containers run by a real
// systemd (the test harness). Needs root, systemd, runc, docker-registry, busybox and docker.
import { fileURLToPath } from 'node:url';
import { startApiService, type ApiService } from '../helpers/api-service.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox, { tools: ['docker', 'python3'] });

let s: ApiService;
const name = (suffix: string) => `tc${process.pid}${suffix}`;

test.before(async () => {
  s = await startApiService('api-docker-cli', { server: { Cmd: ['/bin/sh', '-c', "echo server-up; trap 'exit 0' TERM; while true; do sleep 1; done"] } });
  const pulled = await s.cli(['pull', s.image]);
  if (pulled.exitCode !== 0) throw new Error(pulled.stderr);
});

test.after.always(async () => {
  await s?.stop();
});

test.serial('docker version and info talk to syscontainer, API 1.41', async (t) => {
  const version = await s.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Version}}']);
  t.is(version.exitCode, 0, version.stderr);
  t.regex(version.stdout, /^1\.41 \d+\.\d+\.\d+/);
  const info = await s.docker(['info', '--format', '{{.Driver}} {{.OSType}}']);
  t.is(info.exitCode, 0, info.stderr);
  t.is(info.stdout.trim(), 'ostree linux');
});

test.serial('docker pull from the registry, then images lists it', async (t) => {
  const image = `${s.registry.host}/test/server:1`;
  const pull = await s.docker(['pull', image]);
  t.is(pull.exitCode, 0, pull.stderr);
  t.regex(pull.stdout, /Digest: sha256:[0-9a-f]{64}/);
  const images = await s.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  t.true(images.stdout.split('\n').includes(image), images.stdout);
});

test.serial('run -d, ps, logs, exec, inspect, stop, rm: a system container the CLI lists too', async (t) => {
  const image = `${s.registry.host}/test/server:1`;
  const web = name('web');
  const since = Math.floor(Date.now() / 1000) - 1;
  const run = await s.docker(['run', '-d', '--name', web, '-e', 'GREETING=hi there', '--memory', '64m', '--cpus', '0.5', image]);
  t.is(run.exitCode, 0, run.stderr);
  t.regex(run.stdout.trim(), /^[0-9a-f]{64}$/);
  const limits = await s.harness.exec(['systemctl', 'show', '-p', 'MemoryMax', '-p', 'CPUQuotaPerSecUSec', `${web}.service`]);
  t.deepEqual(limits.stdout.trim().split('\n').sort(), ['CPUQuotaPerSecUSec=500ms', 'MemoryMax=67108864'], 'the limits are the unit\'s');
  const ps = await s.docker(['ps', '--format', '{{.Names}} {{.State}}']);
  t.true(ps.stdout.split('\n').includes(`${web} running`), ps.stdout);
  const listed = await s.cli(['containers', 'list', '--json']);
  t.true((JSON.parse(listed.stdout) as { name: string }[]).some((c) => c.name === web), 'syscontainer containers list shows it');
  let logs = await s.docker(['logs', web]);
  for (let i = 0; i < 20 && !logs.stdout.includes('server-up'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    logs = await s.docker(['logs', web]);
  }
  t.regex(logs.stdout, /server-up/);
  const exec = await s.docker(['exec', web, 'sh', '-c', 'echo "$GREETING"; echo to-err >&2; exit 4']);
  t.is(exec.exitCode, 4);
  t.is(exec.stdout.trim(), 'hi there');
  t.is(exec.stderr.trim(), 'to-err');
  const inspect = await s.docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.Config.Image}}', web]);
  t.is(inspect.stdout.trim(), `running true ${image}`);
  const hostConfig = await s.docker(['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', web]);
  t.is(hostConfig.stdout.trim(), '67108864 500000000');
  const stop = await s.docker(['stop', web]);
  t.is(stop.exitCode, 0, stop.stderr);
  const stopped = await s.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', web]);
  t.is(stopped.stdout.trim(), 'exited 0', 'the trap exits 0 on TERM');
  const rm = await s.docker(['rm', web]);
  t.is(rm.exitCode, 0, rm.stderr);
  const gone = await s.docker(['inspect', web]);
  t.is(gone.exitCode, 1);
  t.regex(gone.stderr, /No such (container|object)/);
  t.false((await s.cli(['containers', 'list'])).stdout.includes(web));
  // The notifications of all that, as docker events shows them (order aside: die comes from the unit's record).
  const events = await s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${web}`, '--format', '{{.Action}}']);
  t.is(events.exitCode, 0, events.stderr);
  t.deepEqual(new Set(events.stdout.trim().split('\n')), new Set(['create', 'start', 'die', 'stop', 'destroy']), events.stdout);
});

test.serial('a container installed by the CLI shows in docker ps -a, and docker rm removes it', async (t) => {
  const byCli = name('bycli');
  const installed = await s.cli(['install', '--system', '--no-start', '--name', byCli, `${s.registry.host}/test/server:1`]);
  t.is(installed.exitCode, 0, installed.stderr);
  const ps = await s.docker(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
  t.true(ps.stdout.split('\n').includes(`${byCli} created`), ps.stdout);
  t.is((await s.docker(['rm', byCli])).exitCode, 0);
  t.false((await s.cli(['containers', 'list'])).stdout.includes(byCli));
});

test.serial('docker stop -t 1 kills a container that ignores its stop signal a second later', async (t) => {
  const stubborn = name('stubborn');
  const run = await s.docker(['run', '-d', '--name', stubborn, s.image, 'sh', '-c', "trap '' TERM; while true; do sleep 1; done"]);
  t.is(run.exitCode, 0, run.stderr);
  const began = Date.now();
  const stop = await s.docker(['stop', '-t', '1', stubborn]);
  t.is(stop.exitCode, 0, stop.stderr);
  t.true(Date.now() - began < 20_000, `stopped after ${Date.now() - began} ms (the unit's own stop timeout is 30 s)`);
  const inspect = await s.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', stubborn]);
  t.is(inspect.stdout.trim(), 'exited 137', 'killed');
  t.is((await s.docker(['rm', stubborn])).exitCode, 0);
});

test.serial('health checks and restart policies: --health-cmd shows in inspect, ps and events; --restart unless-stopped', async (t) => {
  const image = `${s.registry.host}/test/server:1`;
  const since = Math.floor(Date.now() / 1000) - 1;
  const good = name('hgood');
  const bad = name('hbad');
  const health = ['--health-interval', '1s', '--health-retries', '1', '--health-timeout', '5s'];
  t.is((await s.docker(['run', '-d', '--name', good, '--restart', 'unless-stopped', '--health-cmd', 'true', ...health, image])).exitCode, 0);
  t.is((await s.docker(['run', '-d', '--name', bad, '--health-cmd', 'echo sick; exit 1', ...health, image])).exitCode, 0);
  const statusOf = async (who: string) => (await s.docker(['inspect', '--format', '{{.State.Health.Status}}', who])).stdout.trim();
  for (let i = 0; i < 60 && ((await statusOf(good)) !== 'healthy' || (await statusOf(bad)) !== 'unhealthy'); i++) await new Promise((resolve) => setTimeout(resolve, 500));
  t.is(await statusOf(good), 'healthy');
  t.is(await statusOf(bad), 'unhealthy');
  const log = JSON.parse((await s.docker(['inspect', '--format', '{{json .State.Health}}', bad])).stdout) as { FailingStreak: number; Log: { ExitCode: number; Output: string }[] };
  t.true(log.FailingStreak >= 1);
  t.like(log.Log.at(-1), { ExitCode: 1 });
  t.regex(log.Log.at(-1)!.Output, /sick/);
  t.is((await s.docker(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', good])).stdout.trim(), 'unless-stopped');
  t.regex((await s.docker(['ps', '--filter', `name=${good}`, '--format', '{{.Status}}'])).stdout, /^Up .*\(healthy\)$/m);
  // The unit restarts it when it dies (systemd's Restart=always), and it starts at boot (enabled).
  t.is((await s.harness.exec(['systemctl', 'show', '-p', 'Restart', '-p', 'UnitFileState', `${good}.service`])).stdout.trim().split('\n').sort().join(' '), 'Restart=always UnitFileState=enabled');
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const events = await s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  const lines = events.stdout.trim().split('\n');
  t.true(lines.includes(`health_status: healthy ${good}`), events.stdout);
  t.true(lines.includes(`health_status: unhealthy ${bad}`), events.stdout);
  t.is((await s.docker(['rm', '-f', good, bad])).exitCode, 0);
});

test.serial('--restart on-failure:N (MaximumRetryCount): the unit restarts it N times, then it stays failed; inspect shows the count', async (t) => {
  const flaky = name('retry');
  const run = await s.docker(['run', '-d', '--name', flaky, '--restart', 'on-failure:2', s.image, 'sh', '-c', 'echo attempt; exit 1']);
  t.is(run.exitCode, 0, run.stderr);
  t.is((await s.docker(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}', flaky])).stdout.trim(), 'on-failure 2');
  // Between attempts the unit is activating (auto-restart); failed only once it gave up.
  const unit = async () => (await s.harness.exec(['systemctl', 'show', '-p', 'ActiveState', `${flaky}.service`])).stdout.trim();
  for (let i = 0; i < 40 && (await unit()) !== 'ActiveState=failed'; i++) await new Promise((resolve) => setTimeout(resolve, 500));
  t.is(await unit(), 'ActiveState=failed');
  await new Promise((resolve) => setTimeout(resolve, 2500)); // no further start comes (RestartSec=1)
  t.is(await unit(), 'ActiveState=failed');
  const attempts = (await s.docker(['logs', flaky])).stdout.split('\n').filter((line) => line === 'attempt');
  t.is(attempts.length, 3, 'the first start and 2 restarts');
  t.regex((await s.cli(['status', flaky])).stdout, /^Restart:\s+on-failure \(at most 2 restarts until the next start\)$/m);
  t.is((await s.docker(['rm', '-f', flaky])).exitCode, 0);
});

test.serial('docker run --rm prints both streams and exits with the command\'s status', async (t) => {
  const run = await s.docker(['run', '--rm', '--name', name('once'), s.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.is(run.exitCode, 3, run.stderr);
  t.is(run.stdout, 'out');
  t.is(run.stderr, 'err');
  const ps = await s.docker(['ps', '-a', '--format', '{{.Names}}']);
  t.false(ps.stdout.includes(name('once')), 'nothing left');
});

test.serial('docker wait on an exited container returns its code at once, also after a service restart', async (t) => {
  const job = name('job');
  const run = await s.docker(['run', '-d', '--name', job, s.image, 'sh', '-c', 'exit 7']);
  t.is(run.exitCode, 0, run.stderr);
  const first = await s.docker(['wait', job]);
  t.is(first.stdout.trim(), '7');
  await s.restart();
  const began = Date.now();
  const again = await s.docker(['wait', job]);
  t.is(again.stdout.trim(), '7');
  t.true(Date.now() - began < 5000, 'at once');
  const inspect = await s.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', job]);
  t.is(inspect.stdout.trim(), 'exited 7');
  t.is((await s.docker(['rm', job])).exitCode, 0);
});

test.serial('docker-py: run with output, run detached, exec_run, logs, stop, wait, remove', async (t) => {
  const { execa } = await import('execa');
  // The script is not built: it is read from the source tree (dist/test/integration → test/helpers/python).
  const script = fileURLToPath(new URL('../../../test/helpers/python/docker-py-session.py', import.meta.url));
  const server = `${s.registry.host}/test/server:1`;
  const result = await execa('python3', [script, `unix://${s.socketPath}`, s.image, server, name('py')], { reject: false, timeout: 180_000 });
  t.is(result.exitCode, 0, String(result.stderr));
  const out = JSON.parse(String(result.stdout)) as { version: string; run: string; status: string; exec: [number, string]; logs: string; wait: number; names: string[] };
  t.is(out.version, '1.41');
  t.deepEqual(out.run.split('\n').filter(Boolean).sort(), ['py-err', 'py-out']);
  t.is(out.status, 'running');
  t.deepEqual(out.exec, [0, 'exec docker-py\n']);
  t.regex(out.logs, /server-up/);
  t.is(out.wait, 0);
  t.false(out.names.some((n) => n.startsWith(name('py'))), 'removed');
});

test.serial('serve --install-units: syscontainer.socket starts the service on the first request (socket activation)', async (t) => {
  const { apiRequest } = await import('../helpers/api-client.js');
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const socketPath = path.join(s.base, 'activated.sock');
  const installed = await s.cli(['serve', '--install-units', '--listen', `unix:${socketPath}`]);
  t.is(installed.exitCode, 0, installed.stderr);
  const socketUnit = await readFile(path.join(s.base, 'units', 'syscontainer.socket'), 'utf8');
  t.regex(socketUnit, new RegExp(`^ListenStream=${socketPath}$`, 'm'));
  t.regex(socketUnit, /^SocketMode=0660$/m);
  t.regex(await readFile(path.join(s.base, 'units', 'syscontainer.service'), 'utf8'), /^ExecStart=\S+node\S* \S+syscontainer\.mjs --root=\S+ (--\S+ )*serve$/m);
  t.is((await s.harness.exec(['systemctl', 'is-active', 'syscontainer.service'])).stdout.trim(), 'inactive', 'not started before a request');
  const ping = await apiRequest({ socketPath }, 'GET', '/v1.41/_ping');
  t.is(ping.status, 200);
  t.is(ping.headers['api-version'], '1.41');
  t.is((await s.harness.exec(['systemctl', 'is-active', 'syscontainer.service'])).stdout.trim(), 'active');
  const images = await apiRequest({ socketPath }, 'GET', '/images/json');
  t.true((images.json as { RepoTags: string[] }[]).some((i) => i.RepoTags.includes(s.image)), 'the same store');
  await s.harness.exec(['systemctl', 'stop', 'syscontainer.service', 'syscontainer.socket']);
});
