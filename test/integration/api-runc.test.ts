// The REST service where no systemd runs (a build box, CI): its containers run under their
// monitors (runc-direct), which record each exit as the unit does under systemd, so `docker
// wait` and `inspect` answer as they do there: an exit by itself, a stop, a kill, a wait
// before the exit and one after it, across a restart of the service; logs keep stdout and
// stderr apart. The real docker CLI and runc. Needs root, runc, docker-registry, busybox and docker.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServiceWithoutSystemd, type ApiService } from '../helpers/api-service.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.runc, needs.registry, needs.busybox, { tools: ['docker'] });

let s: Omit<ApiService, 'harness'>;
const name = (suffix: string) => `tc${process.pid}r${suffix}`;

test.before(async () => {
  const systemdState = execFileSync('sh', ['-c', 'systemctl is-system-running || true'], { encoding: 'utf8' }).trim();
  if (systemdState !== 'offline') throw new Error(`these tests exercise the service without systemd; systemd here is "${systemdState}"`);
  s = await startApiServiceWithoutSystemd('api-runc', {
    server: { Cmd: ['/bin/sh', '-c', "echo server-up; trap 'echo stopping; exit 4' TERM; while true; do sleep 1; done"] },
  });
  const pulled = await s.cli(['pull', `${s.registry.host}/test/server:1`]);
  if (pulled.exitCode !== 0) throw new Error(pulled.stderr);
  if ((await s.cli(['pull', s.image])).exitCode !== 0) throw new Error('pull failed');
});

test.after.always(async () => {
  for (const suffix of ['job', 'srv']) await s?.docker(['rm', '-f', name(suffix)]);
  await s?.stop();
});

const inspect = async (container: string) => (await s.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', container])).stdout.trim();

test.serial('docker run -d of a command that exits: wait returns its code, inspect shows it, also after a service restart', async (t) => {
  const job = name('job');
  const run = await s.docker(['run', '-d', '--name', job, s.image, 'sh', '-c', 'sleep 1; echo finished; exit 7']);
  t.is(run.exitCode, 0, run.stderr);
  const waited = await s.docker(['wait', job], { timeoutMs: 20_000 });
  t.is(waited.exitCode, 0, waited.stderr);
  t.is(waited.stdout.trim(), '7', 'a wait before the exit returns on it');
  t.is(await inspect(job), 'exited 7 false');
  t.regex((await s.docker(['logs', job])).stdout, /finished/);
  await s.restart();
  const began = Date.now();
  t.is((await s.docker(['wait', job])).stdout.trim(), '7');
  t.true(Date.now() - began < 5000, 'after the exit: at once');
  // The CLI sees the same record.
  t.regex((await s.cli(['status', job])).stdout, /^Last exit:\s+status 7 /m);
  t.is((await s.docker(['rm', job])).exitCode, 0);
});

test.serial('docker stop and kill end with a recorded exit; start runs it again', async (t) => {
  const srv = name('srv');
  t.is((await s.docker(['run', '-d', '--name', srv, `${s.registry.host}/test/server:1`])).exitCode, 0);
  t.is(await inspect(srv), 'running 0 true');
  const waiting = s.docker(['wait', srv], { timeoutMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const stopped = await s.docker(['stop', srv]);
  t.is(stopped.exitCode, 0, stopped.stderr);
  t.is(await inspect(srv), 'exited 4 false', "the TERM trap's code, recorded before stop returned");
  t.is((await waiting).stdout.trim(), '4');

  t.is((await s.docker(['start', srv])).exitCode, 0);
  t.is(await inspect(srv), 'running 0 true');
  // A start of what runs already changes nothing (docker's 304): the same process runs on.
  const pid = async () => (await s.docker(['inspect', '--format', '{{.State.Pid}}', srv])).stdout.trim();
  const running = await pid();
  t.is((await s.docker(['start', srv])).exitCode, 0);
  t.is(await pid(), running);
  t.is(await inspect(srv), 'running 0 true');
  t.is((await s.docker(['kill', srv])).exitCode, 0);
  t.is((await s.docker(['wait', srv], { timeoutMs: 20_000 })).stdout.trim(), '137');
  t.is(await inspect(srv), 'exited 137 false');
  t.is((await s.docker(['rm', srv])).exitCode, 0);
});

test.serial("docker logs keeps the container's stdout and stderr apart, as the journal does; syscontainer logs prints both", async (t) => {
  const box = name('streams');
  const run = await s.docker(['run', '-d', '--name', box, s.image, 'sh', '-c', 'echo out; echo err >&2; printf tail >&2; exit 0']);
  t.is(run.exitCode, 0, run.stderr);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  t.is((await s.docker(['wait', box], { timeoutMs: 20_000 })).stdout.trim(), '0');
  const logs = await s.docker(['logs', box]);
  // (execa drops the last newline)
  t.is(logs.stdout, 'out', 'stdout only');
  t.is(logs.stderr, 'err\ntail', 'stderr only, a last line without newline kept');
  const tail = await s.docker(['logs', '--tail', '1', '--timestamps', box]);
  t.is(tail.stdout, '');
  t.regex(tail.stderr, /^\d{4}-\d\d-\d\dT[\d:]+\.\d+Z tail$/);
  const cli = await s.cli(['logs', box]);
  t.is(cli.exitCode, 0, cli.stderr);
  t.deepEqual(cli.stdout.split('\n').filter((l) => l !== '').sort(), ['err', 'out', 'tail']);
});

const eventsOf = async (container: string, since: number) => {
  const events = await s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${container}`, '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
  return events.stdout.split('\n').map((l) => l.replace(/ ?<no value>$/, '').trim()).filter((l) => l !== '');
};

test.serial('docker rm -f of a running container: kill, then die with its code, then destroy', async (t) => {
  const box = name('rmf');
  const since = Math.floor(Date.now() / 1000) - 1;
  t.is((await s.docker(['run', '-d', '--name', box, `${s.registry.host}/test/server:1`])).exitCode, 0);
  t.is(await inspect(box), 'running 0 true');
  const removed = await s.docker(['rm', '-f', box]);
  t.is(removed.exitCode, 0, removed.stderr);
  t.deepEqual(await eventsOf(box, since), ['create', 'start', 'kill', 'die 137', 'destroy']);
});

test.serial('a container whose monitor was killed -9 and that then ended: wait and inspect say exited, code unknown (255), as status does', async (t) => {
  const box = name('lost');
  const since = Math.floor(Date.now() / 1000) - 1;
  t.is((await s.docker(['run', '-d', '--name', box, `${s.registry.host}/test/server:1`])).exitCode, 0);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  const deployment = (JSON.parse((await s.cli(['status', '--json', box])).stdout) as { deployment: string }).deployment;
  const monitor = Number(await readFile(path.join(deployment, 'monitor.pid'), 'utf8'));
  process.kill(monitor, 'SIGKILL');
  const waiting = s.docker(['wait', box], { timeoutMs: 20_000 });
  await sleep(500);
  const pid = Number((await s.docker(['inspect', '--format', '{{.State.Pid}}', box])).stdout.trim());
  t.true(pid > 0, 'the container still runs after its monitor was killed');
  process.kill(pid, 'SIGKILL');
  const waited = await waiting;
  t.is(waited.exitCode, 0, `wait returns (${waited.stderr})`);
  t.is(waited.stdout.trim(), '255');
  t.is(await inspect(box), 'exited 255 false');
  t.regex((await s.docker(['inspect', '--format', '{{.State.Error}}', box])).stdout, /exit status lost/);
  t.regex((await s.cli(['status', box])).stdout, /^Last exit:\s+status 255 /m);
  // Read again, nothing changes; the lost exit is told once.
  t.is(await inspect(box), 'exited 255 false');
  t.deepEqual(await eventsOf(box, since), ['create', 'start', 'die 255']);
});

test.serial("the CLI's install, stop, start and uninstall reach docker events, as the service's own actions do", async (t) => {
  const box = name('cli');
  const since = Math.floor(Date.now() / 1000) - 1;
  const seen: string[] = [];
  // A stream open before: what the CLI writes reaches it as it happens.
  const following = s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 15), '--filter', `container=${box}`, '--format', '{{.Action}}'], { timeoutMs: 30_000 });
  const installed = await s.cli(['install', '--system', '--name', box, `${s.registry.host}/test/server:1`]);
  t.is(installed.exitCode, 0, installed.stderr);
  t.is((await s.cli(['stop', box])).exitCode, 0);
  t.is((await s.cli(['start', box])).exitCode, 0);
  t.is((await s.cli(['uninstall', box])).exitCode, 0);
  t.deepEqual(await eventsOf(box, since), ['create', 'start', 'die 4', 'stop', 'start', 'die 4', 'destroy']);
  seen.push(...(await following).stdout.trim().split('\n'));
  t.deepEqual(seen, ['create', 'start', 'die', 'stop', 'start', 'die', 'destroy'], 'the open stream saw them as well');
});
