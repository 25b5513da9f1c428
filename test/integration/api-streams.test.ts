// The REST service's streams with the real docker CLI and docker-py: exec output while the
// command runs (stdout and stderr apart, then its exit code), exec and one-off runs with
// stdin, logs with stderr apart from stdout, and events kept across a restart of the service.
// The containers are system containers run by a real systemd (the test harness). Needs root,
// systemd, runc, docker-registry, busybox, docker and python3-docker.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startApiService, type ApiService } from '../helpers/api-service.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox, { tools: ['docker', 'python3'] });

let s: ApiService;
const name = (suffix: string) => `tc${process.pid}${suffix}`;
const server = () => `${s.registry.host}/test/server:1`;
const python = (script: string) => fileURLToPath(new URL(`../../../test/helpers/python/${script}`, import.meta.url));

test.before(async () => {
  s = await startApiService('api-streams', { server: { Cmd: ['/bin/sh', '-c', "echo server-up; trap 'exit 0' TERM; while true; do sleep 1; done"] }, spare: { Cmd: ['true'] } });
  for (const image of [s.image, `${s.registry.host}/test/server:1`]) {
    const pulled = await s.cli(['pull', image]);
    if (pulled.exitCode !== 0) throw new Error(pulled.stderr);
  }
});

test.after.always(async () => {
  await s?.stop();
});

test.serial('exec output streams while the command runs: docker-py sees the first line before the command ends', async (t) => {
  const box = name('exec');
  t.is((await s.docker(['run', '-d', '--name', box, server()])).exitCode, 0);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  const { execa } = await import('execa');
  const result = await execa('python3', [python('docker-py-exec-stream.py'), `unix://${s.socketPath}`, box], { reject: false, timeout: 60_000 });
  t.is(result.exitCode, 0, String(result.stderr));
  const out = JSON.parse(String(result.stdout)) as { chunks: [string, string, number][]; ended: number; exitCode: number };
  t.deepEqual(
    out.chunks.map(([stream, text]) => [stream, text]),
    [
      ['stdout', 'a\n'],
      ['stderr', 'b\n'],
    ],
  );
  const [, , firstAt] = out.chunks[0]!;
  const [, , secondAt] = out.chunks[1]!;
  t.true(secondAt - firstAt >= 1.5, `a came at ${firstAt} s, b at ${secondAt} s: a came before the 2 s sleep ended`);
  t.true(out.ended >= secondAt);
  t.is(out.exitCode, 6, 'GET /exec/{id}/json has the exit code');
});

test.serial('docker exec -i passes stdin to the command, and its end is the command\'s EOF', async (t) => {
  const box = name('stdin');
  t.is((await s.docker(['run', '-d', '--name', box, server()])).exitCode, 0);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  const cat = await s.docker(['exec', '-i', box, 'cat'], { input: 'hi\nthere\n' });
  t.is(cat.exitCode, 0, cat.stderr);
  t.is(cat.stdout, 'hi\nthere');
  const counted = await s.docker(['exec', '-i', box, 'sh', '-c', 'n=0; while read l; do n=$((n+1)); done; echo "$n lines" >&2; exit 3'], { input: 'x\n'.repeat(1000) });
  t.is(counted.exitCode, 3);
  t.is(counted.stderr, '1000 lines');
  // Without -i the command's stdin is empty, as docker's.
  const noStdin = await s.docker(['exec', box, 'cat'], { input: 'ignored\n' });
  t.is(noStdin.exitCode, 0);
  t.is(noStdin.stdout, '');
});

test.serial('docker run --rm -i feeds the one-off run\'s stdin; a system container has none, and says so', async (t) => {
  const once = await s.docker(['run', '--rm', '-i', '--name', name('cat'), s.image, 'sh', '-c', 'cat; echo done >&2; exit 2'], { input: 'hi\nfrom stdin\n' });
  t.is(once.exitCode, 2, once.stderr);
  t.is(once.stdout, 'hi\nfrom stdin');
  t.is(once.stderr, 'done');
  // Without --rm it would be a system container, whose stdin is its unit's: refused, naming why.
  const refused = await s.docker(['run', '-i', '--name', name('nostdin'), s.image, 'cat'], { input: 'x\n' });
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, /OpenStdin: a system container's stdin is its systemd unit's/);
  t.false((await s.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.includes(name('nostdin')), 'nothing made');
  const box = name('attach');
  t.is((await s.docker(['run', '-d', '--name', box, server()])).exitCode, 0);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  const { apiRequest } = await import('../helpers/api-client.js');
  const attach = await apiRequest({ socketPath: s.socketPath }, 'POST', `/v1.41/containers/${box}/attach?stream=1&stdin=1&stdout=1`);
  t.is(attach.status, 400);
  t.regex((attach.json as { message: string }).message, /has no stdin to attach to: a system container's stdin is its systemd unit's/);
});

test.serial('docker logs prints stderr on stderr; --tail, --timestamps, --since and --follow keep working; journalctl -u shows both', async (t) => {
  const box = name('logs');
  const script = 'echo out1; echo err1 >&2; sleep 2; echo out2; echo err2 >&2; sleep 1; exit 0';
  t.is((await s.docker(['run', '-d', '--name', box, s.image, 'sh', '-c', script])).exitCode, 0);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  // Followed from the start: the lines come as written, and the stream ends with the container.
  const followed = await s.docker(['logs', '--follow', box], { timeoutMs: 30_000 });
  t.is(followed.exitCode, 0, followed.stderr);
  t.is(followed.stdout, 'out1\nout2');
  t.is(followed.stderr, 'err1\nerr2');
  const all = await s.docker(['logs', box]);
  t.deepEqual([all.stdout, all.stderr], ['out1\nout2', 'err1\nerr2']);
  // Two journal streams: lines written at the same moment to both may be recorded in either
  // order (as with docker's two pipes); within a stream the order holds.
  const tail = await s.docker(['logs', '--tail', '2', box]);
  t.deepEqual([tail.stdout, tail.stderr], ['out2', 'err2'], 'the last two lines of both streams together');
  const last = await s.docker(['logs', '--tail', '1', box]);
  t.true(['out2\n', '\nerr2'].includes(`${last.stdout}\n${last.stderr}`), `one line: ${JSON.stringify(last)}`);
  const stamped = await s.docker(['logs', '--timestamps', box]);
  const stamps = stamped.stderr.split('\n').map((line) => line.split(' '));
  t.deepEqual(stamps.map(([, text]) => text), ['err1', 'err2']);
  for (const [stamp] of stamps) t.regex(stamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  // Half way through the 2 s between the first lines and the second.
  const firstAt = Date.parse(stamps[0]![0]!);
  const since = await s.docker(['logs', '--since', new Date(firstAt + 1000).toISOString(), box]);
  t.deepEqual([since.stdout, since.stderr], ['out2', 'err2'], 'only what came after --since');
  // The journal shows both, as before; stderr is its err priority.
  const journal = await s.harness.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', `${box}.service`, '_TRANSPORT=stdout']);
  const lines = journal.stdout.trim().split('\n');
  t.deepEqual([...lines].sort(), ['err1', 'err2', 'out1', 'out2']);
  t.true(lines.indexOf('out1') < lines.indexOf('out2') && Math.max(lines.indexOf('out1'), lines.indexOf('err1')) < Math.min(lines.indexOf('out2'), lines.indexOf('err2')), lines.join(' '));
  const errors = await s.harness.exec(['journalctl', '--no-pager', '-o', 'cat', '-p', 'err', '-u', `${box}.service`, '_TRANSPORT=stdout']);
  t.deepEqual(errors.stdout.trim().split('\n'), ['err1', 'err2']);
});

test.serial('docker run (attached, no --rm) of a system container prints stdout and stderr apart and exits with its status', async (t) => {
  const box = name('fg');
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  const run = await s.docker(['run', '--name', box, s.image, 'sh', '-c', 'echo o1; sleep 1; echo e1 >&2; echo o2; exit 4']);
  t.is(run.exitCode, 4, run.stderr);
  t.is(run.stdout, 'o1\no2');
  t.is(run.stderr, 'e1');
});

test.serial('events are kept across a restart of the service, with what happened while it was down: a health change that flipped back, a die', async (t) => {
  const box = name('events');
  const since = Math.floor(Date.now() / 1000) - 1;
  const spare = `${s.registry.host}/test/spare:1`;
  t.is((await s.docker(['pull', spare])).exitCode, 0);
  t.is((await s.docker(['rmi', spare])).exitCode, 0);
  const sick = path.join(s.shared, `${box}-sick`);
  const run = await s.docker(['run', '-d', '--name', box, '-v', `${s.shared}:/shared:ro`, '--health-cmd', `test ! -e /shared/${box}-sick`, '--health-interval', '1s', '--health-retries', '1', server()]);
  t.is(run.exitCode, 0, run.stderr);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  const health = async () => (JSON.parse(await readFile(path.join(s.root, box, 'health.json'), 'utf8').catch(() => '{}')) as { status?: string }).status;
  const until = async (status: string) => {
    for (let i = 0; i < 120 && (await health()) !== status; i++) await sleep(250);
    t.is(await health(), status);
  };
  await until('healthy');
  // The service goes; the container turns unhealthy and healthy again, then stops (the CLI's stop, which tells of it too).
  await s.kill('SIGKILL');
  await writeFile(sick, '');
  await until('unhealthy');
  await rm(sick);
  await until('healthy');
  t.is((await s.cli(['stop', box])).exitCode, 0);
  await s.restart();
  const events = await s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}']);
  t.is(events.exitCode, 0, events.stderr);
  const lines = events.stdout.split('\n').map((l) => l.replace(/ <no value>$/, '').trim());
  const mine = lines.filter((l) => l.startsWith('container ') && l.includes(` ${box}`)).map((l) => l.replace(` ${box}`, ''));
  t.deepEqual(mine, ['container create', 'container start', 'container health_status: healthy', 'container health_status: unhealthy', 'container health_status: healthy', 'container die 0', 'container stop'], events.stdout);
  t.true(lines.includes(`image pull ${spare}`), events.stdout);
  t.true(lines.some((l) => l.startsWith('image delete ')), events.stdout);
});

test.serial('every exit is one die with its code, also when systemd restarts the container within a second while no service watches', async (t) => {
  const box = name('crash');
  const since = Math.floor(Date.now() / 1000) - 1;
  const run = await s.docker(['run', '-d', '--name', box, '--restart', 'on-failure:2', s.image, 'sh', '-c', 'sleep 0.5; exit 3']);
  t.is(run.exitCode, 0, run.stderr);
  t.teardown(() => s.docker(['rm', '-f', box]).then(() => undefined));
  // Nobody looks at the records while systemd runs it three times (RestartSec=1 clears the last exit-status each time).
  await s.kill('SIGKILL');
  const unit = async () => (await s.harness.exec(['systemctl', 'show', '-p', 'NRestarts', '-p', 'ActiveState', `${box}.service`])).stdout;
  // Three runs (on-failure:2, docker's MaximumRetryCount): the start limit then leaves the unit failed.
  for (let i = 0; i < 80 && !/ActiveState=failed/.test(await unit()); i++) await sleep(250);
  t.regex(await unit(), /ActiveState=failed/);
  await s.restart();
  const events = await s.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${box}`, '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
  t.is(events.exitCode, 0, events.stderr);
  const lines = events.stdout.split('\n').map((l) => l.replace(/ ?<no value>$/, '').trim()).filter((l) => l !== '');
  t.deepEqual(lines, ['create', 'start', 'die 3', 'die 3', 'die 3'], events.stdout);
});
