// Restart policies where no systemd runs: the container's monitor applies its unit's Restart=,
// RestartSec= and start limit, as systemd would, through the docker CLI and the syscontainer
// CLI against `syscontainer serve`. A stop (docker stop, syscontainer stop, rm -f, also while
// the monitor waits to restart) keeps it down and leaves nothing running; a kill is a signal
// only, and the policy brings the container back. Needs root, runc, docker-registry, busybox
// and docker.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { startApiServiceWithoutSystemd, type ApiService } from '../helpers/api-service.js';
import { runtimePath } from '../helpers/fault-kit.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { monitorsNamed } from '../helpers/monitors.js';
import { waitFor } from '../helpers/wait-for.js';

const test = testNeeding(needs.runc, needs.registry, needs.busybox, { tools: ['docker'] });

let s: Omit<ApiService, 'harness'>;
let server = '';
const name = (suffix: string) => `tc${process.pid}rr${suffix}`;
const used: string[] = [];

test.before(async () => {
  const systemdState = execFileSync('sh', ['-c', 'systemctl is-system-running || true'], { encoding: 'utf8' }).trim();
  if (systemdState !== 'offline') throw new Error(`these tests exercise the service without systemd; systemd here is "${systemdState}"`);
  s = await startApiServiceWithoutSystemd('restart-runc', {
    server: { Cmd: ['/bin/sh', '-c', "echo server-up; trap 'echo stopping; exit 4' TERM; while true; do sleep 1; done"] },
  });
  server = `${s.registry.host}/test/server:1`;
  for (const image of [server, s.image]) {
    const pulled = await s.cli(['pull', image]);
    if (pulled.exitCode !== 0) throw new Error(pulled.stderr);
  }
});

test.after.always(async () => {
  for (const box of used) await s?.docker(['rm', '-f', box]);
  await s?.stop();
});

const box = (suffix: string) => {
  const n = name(suffix);
  used.push(n);
  return n;
};
const inspect = async (container: string, format = '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}') => (await s.docker(['inspect', '--format', format, container])).stdout.trim();
const runsOf = async (container: string, line: string) => (await s.docker(['logs', container])).stdout.split('\n').filter((l) => l === line).length;
const dies = async (container: string, since: number) => {
  const events = await s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${container}`, '--filter', 'event=die', '--format', '{{.Actor.Attributes.exitCode}}']);
  return events.stdout.split('\n').filter((l) => l.trim() !== '');
};
const runcKnows = async (container: string) => (await execa(runtimePath, ['list', '--quiet'], { reject: false })).stdout.split('\n').includes(container);
const leftOnDisk = async (container: string) => (await readdir(s.root)).filter((e) => e === container || e.startsWith(`${container}.`));

test.serial('on-failure:2 of a command that exits 1: three runs, three exits, then it stays exited with RestartCount 2', async (t) => {
  const job = box('fail');
  const since = Math.floor(Date.now() / 1000) - 1;
  const run = await s.docker(['run', '-d', '--restart', 'on-failure:2', '--name', job, s.image, 'sh', '-c', 'echo run; exit 1']);
  t.is(run.exitCode, 0, run.stderr);
  // RestartSec=1, doubled: runs at about 0, 1 and 3 s.
  await waitFor('three runs', async () => (await runsOf(job, 'run')) >= 3, 15_000);
  await waitFor('its monitor to end', async () => (await monitorsNamed(job)).length === 0, 10_000);
  await sleep(4500); // past where a fourth run would come (4 s after the third)
  t.is(await runsOf(job, 'run'), 3);
  t.is(await inspect(job), 'exited 1 2');
  t.deepEqual(await dies(job, since), ['1', '1', '1']);
  const deployment = (JSON.parse((await s.cli(['status', '--json', job])).stdout) as { deployment: string }).deployment;
  t.is((await readFile(`${deployment}/exits`, 'utf8')).trim().split('\n').length, 3, 'each exit recorded');
  t.regex((await s.cli(['status', job])).stdout, /^Restarts:\s+2 since the last start/m);
});

test.serial('always: a command that exits 0 is run again', async (t) => {
  const job = box('again');
  t.is((await s.docker(['run', '-d', '--restart', 'always', '--name', job, s.image, 'sh', '-c', 'echo tick; exit 0'])).exitCode, 0);
  await waitFor('a second run', async () => (await runsOf(job, 'tick')) >= 2, 10_000);
  t.true(Number(await inspect(job, '{{.RestartCount}}')) >= 1);
  t.is((await s.docker(['rm', '-f', job])).exitCode, 0);
  t.deepEqual(await monitorsNamed(job), []);
});

test.serial('docker stop and syscontainer stop of an always container: it stays stopped, nothing of it runs', async (t) => {
  const srv = box('stop');
  t.is((await s.docker(['run', '-d', '--restart', 'always', '--name', srv, server])).exitCode, 0);
  t.is(await inspect(srv), 'running 0 0');
  const stopped = await s.docker(['stop', srv]);
  t.is(stopped.exitCode, 0, stopped.stderr);
  t.deepEqual(await monitorsNamed(srv), [], 'the monitor ended before stop returned');
  await sleep(2500); // past RestartSec and its doubling
  t.is(await inspect(srv), 'exited 4 0');
  t.false(await runcKnows(srv));
  t.is(await runsOf(srv, 'server-up'), 1);

  t.is((await s.docker(['start', srv])).exitCode, 0);
  t.is(await inspect(srv, '{{.State.Status}}'), 'running');
  const cliStop = await s.cli(['stop', srv]);
  t.is(cliStop.exitCode, 0, cliStop.stderr);
  t.deepEqual(await monitorsNamed(srv), []);
  await sleep(2500);
  t.is(await inspect(srv), 'exited 4 0');
  t.is(await runsOf(srv, 'server-up'), 2);
});

test.serial('docker kill of an always container: a signal only, the policy brings it back (RestartCount 1)', async (t) => {
  const srv = box('kill');
  t.is((await s.docker(['run', '-d', '--restart', 'always', '--name', srv, server])).exitCode, 0);
  const pid = await inspect(srv, '{{.State.Pid}}');
  t.is((await s.docker(['kill', srv])).exitCode, 0);
  await waitFor('it runs again', async () => (await inspect(srv, '{{.State.Running}} {{.State.Pid}}')) !== `true ${pid}` && (await inspect(srv, '{{.State.Running}}')) === 'true', 10_000);
  t.is(await inspect(srv), 'running 0 1');
  t.is(await runsOf(srv, 'server-up'), 2);
  t.regex((await s.cli(['status', srv])).stdout, /^Restarts:\s+1 since the last start/m);
  t.is((await s.docker(['stop', srv])).exitCode, 0);
});

test.serial('rm -f of an always container, running and while its monitor waits to restart it: no runc container, no monitor, no directory', async (t) => {
  const srv = box('rmrun');
  t.is((await s.docker(['run', '-d', '--restart', 'always', '--name', srv, server])).exitCode, 0);
  t.is((await s.docker(['rm', '-f', srv])).exitCode, 0);
  t.false(await runcKnows(srv));
  t.deepEqual(await monitorsNamed(srv), []);
  t.deepEqual(await leftOnDisk(srv), []);

  const loop = box('rmwait');
  t.is((await s.docker(['run', '-d', '--restart', 'always', '--name', loop, s.image, 'sh', '-c', 'exit 3'])).exitCode, 0);
  // After the second restart the monitor waits 4 s: rm -f comes within that wait.
  await waitFor('two restarts', async () => (await inspect(loop, '{{.RestartCount}}')) === '2', 15_000);
  await waitFor('the third run to end', async () => (await inspect(loop, '{{.State.Status}}')) === 'exited', 5000);
  t.not((await monitorsNamed(loop)).length, 0, 'its monitor waits to restart it');
  const removed = await s.docker(['rm', '-f', loop]);
  t.is(removed.exitCode, 0, removed.stderr);
  t.deepEqual(await monitorsNamed(loop), []);
  await sleep(4500);
  t.false(await runcKnows(loop));
  t.deepEqual(await monitorsNamed(loop), []);
  t.deepEqual(await leftOnDisk(loop), []);
});

test.serial('no restart policy: a command that fails runs once', async (t) => {
  const job = box('once');
  const since = Math.floor(Date.now() / 1000) - 1;
  t.is((await s.docker(['run', '-d', '--name', job, s.image, 'sh', '-c', 'echo once; exit 1'])).exitCode, 0);
  t.is((await s.docker(['wait', job], { timeoutMs: 20_000 })).stdout.trim(), '1');
  await sleep(2500);
  t.is(await runsOf(job, 'once'), 1);
  t.is(await inspect(job), 'exited 1 0');
  t.deepEqual(await dies(job, since), ['1']);
  t.deepEqual(await monitorsNamed(job), []);
});
