// The REST service where no systemd runs (a build box, CI): its containers run under their
// monitors (runc-direct), which record each exit as the unit does under systemd, so `docker
// wait` and `inspect` answer as they do there: an exit by itself, a stop, a kill, a wait
// before the exit and one after it, across a restart of the service. The real docker CLI and
// runc. Needs root, runc, docker-registry, busybox and docker.
import { execFileSync } from 'node:child_process';
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
  t.is((await s.docker(['kill', srv])).exitCode, 0);
  t.is((await s.docker(['wait', srv], { timeoutMs: 20_000 })).stdout.trim(), '137');
  t.is(await inspect(srv), 'exited 137 false');
  t.is((await s.docker(['rm', srv])).exitCode, 0);
});
