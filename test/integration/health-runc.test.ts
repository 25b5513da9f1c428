// `healthcheck run` by hand where systemd does not run (runc runs the container directly):
// the check inside the container, its timeout, the state file, the on-failure action, and
// the validation of every new option before anything is written. Real registry, ostree, runc.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { cleanupRunc, cli, isolatedEnv, pushImage, runtimePath } from '../helpers/fault-kit.js';
import { healthImage } from '../helpers/health-image.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { testBaseDir } from '../helpers/systemd-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { createContext, installImage, readSettings, updateContainer } from '../../app/index.js';
import { install } from '../../runtime/index.js';

const test = testNeeding(needs.runc, needs.registry, needs.busybox);
const prefix = `hcr${process.pid}`;
const s = 1_000_000_000;
let registry: RegistryServer | undefined;
let image = '';
let base = '';
let env: Record<string, string> = {};

test.before(async () => {
  base = await testBaseDir(`health-runc-${process.pid}`);
  registry = await startRegistry();
  image = await pushImage(
    registry.host,
    'health/svc',
    'v1',
    await healthImage('hc-v1', { Healthcheck: { Test: ['CMD-SHELL', 'test -f /data/ready && echo ready'], Interval: s, Retries: 2 } }),
  );
  env = isolatedEnv(base, { SYSCONTAINER_SETTLE_MS: '300' });
  await mkdir(path.join(base, 'state'), { recursive: true });
});

test.after.always(async () => {
  await cleanupRunc(prefix);
  await registry?.stop();
  if (base !== '') await rm(base, { recursive: true, force: true });
});

const stateDir = () => path.join(base, 'state');
const run = (args: string[]) => cli(args, env);
const runcState = async (name: string) => JSON.parse((await execa(runtimePath, ['state', name])).stdout) as { pid: number; status: string };

test.serial("the image's check passes: healthy, recorded in the active deployment; the light entry gives the same", async (t) => {
  const name = `${prefix}a`;
  const installed = await run(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${stateDir()}`, image]);
  t.is(installed.exitCode, 0, installed.stderr);
  t.regex(installed.stderr, /systemd is not running here/);
  const result = await run(['healthcheck', 'run', name]);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout.trim(), `${name}: healthy`);
  const state = JSON.parse(await readFile(path.join(env.SYSCONTAINER_ROOT!, name, 'health.json'), 'utf8'));
  t.is(state.status, 'healthy');
  t.is(state.log.length, 1);
  t.is(state.log[0].exitCode, 0);
  t.is(state.log[0].output, 'ready\n');
  // What the timer runs: the light entry beside the bundle, written into the health service.
  const unit = await readFile(path.join(env.SYSCONTAINER_ROOT!, name, `${name}-healthcheck.service`), 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  t.regex(execStart, /syscontainer-healthcheck\.mjs --root \S+ healthcheck run \S+$/);
  const light = await execa(execStart.split(' ')[0]!, execStart.split(' ').slice(1), { reject: false, env });
  t.is(light.exitCode, 0, light.stderr);
  t.is(light.stdout.trim(), `${name}: healthy`);
  // Without systemd nothing runs the check on its own, and status says so.
  const status = await run(['status', name]);
  t.regex(status.stdout, /^Health:\s+healthy$/m);
  t.regex(status.stdout, /no timer runs it: systemd is not running; use syscontainer healthcheck run/);
  t.false(JSON.parse((await run(['status', '--json', name])).stdout).health.timer);
});

test.serial('failing checks count to retries, then the container is restarted and the streak resets', async (t) => {
  const name = `${prefix}a`;
  const before = await runcState(name);
  await rm(path.join(stateDir(), name, 'data', 'ready'));
  const first = await run(['healthcheck', 'run', name]);
  t.is(first.exitCode, 1);
  t.regex(first.stdout, new RegExp(`${name}: healthy \\(failing streak 1\\)`));
  const second = await run(['healthcheck', 'run', name]);
  t.is(second.exitCode, 1);
  t.regex(second.stdout, /unhealthy after 2 failed checks \(last exit 1: no output\); restart/);
  t.regex(second.stdout, /: unhealthy; restarted/);
  const after = await runcState(name);
  t.is(after.status, 'running');
  t.not(after.pid, before.pid, 'a new container process');
  const state = JSON.parse(await readFile(path.join(env.SYSCONTAINER_ROOT!, name, 'health.json'), 'utf8'));
  t.is(state.failingStreak, 0, 'the streak resets');
  t.is(state.lastAction.action, 'restart');
  // The restarted service wrote /data/ready again: a new start, starting afresh, then healthy.
  const third = await run(['healthcheck', 'run', name]);
  t.is(third.exitCode, 0, third.stdout);
  const status = await run(['status', '--json', name]);
  t.is(JSON.parse(status.stdout).health?.status, 'healthy');
});

test.serial('the stop and kill actions: after retries failures the container is stopped, or its init gets SIGKILL', async (t) => {
  for (const action of ['stop', 'kill'] as const) {
    const name = `${prefix}${action}`;
    t.teardown(async () => void (await run(['uninstall', name])));
    const data = path.join(stateDir(), name, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(path.join(data, 'ok'), '');
    const installed = await run(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${stateDir()}`, '--health-cmd', 'test -f /data/ok', '--health-retries', '1', '--health-on-failure', action, image]);
    t.is(installed.exitCode, 0, installed.stderr);
    t.is((await run(['healthcheck', 'run', name])).exitCode, 0);
    await rm(path.join(data, 'ok'));
    const failed = await run(['healthcheck', 'run', name]);
    t.is(failed.exitCode, 1, failed.stderr);
    t.regex(failed.stdout, new RegExp(`unhealthy after 1 failed checks \\(last exit 1: no output\\); ${action} ${name}\n${name}: ${action === 'stop' ? 'stopped' : 'killed'}$`, 'm'));
    await waitFor(`${name} to be down`, async () => (await execa(runtimePath, ['state', name], { reject: false })).stdout.includes('"running"') === false);
    const status = JSON.parse((await run(['status', '--json', name])).stdout) as { state: string; health: { lastAction?: { action: string } } };
    t.not(status.state, 'running', action);
    t.is(status.health.lastAction?.action, action);
  }
});

test.serial('a check that outlives its timeout is killed and counts as a failure; a stopped container cannot be checked (125)', async (t) => {
  const name = `${prefix}b`;
  const installed = await run([
    'install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${stateDir()}`,
    '--health-cmd', 'echo started; sleep 37', '--health-timeout', '1s', '--health-retries', '5', image,
  ]);
  t.is(installed.exitCode, 0, installed.stderr);
  const began = Date.now();
  const result = await run(['healthcheck', 'run', name]);
  t.is(result.exitCode, 1);
  // Well before the check's own 37 s: it was killed at its timeout (the margin is for a loaded machine).
  t.true(Date.now() - began < 30_000, `took ${Date.now() - began} ms`);
  t.regex(result.stdout, /started\nhealth check timed out after 1s/);
  const ps = await execa(runtimePath, ['exec', name, 'ps'], { reject: false });
  t.false(ps.stdout.includes('sleep 37'), `the check is gone:\n${ps.stdout}`);
  await run(['stop', name]);
  const stopped = await run(['healthcheck', 'run', name]);
  t.is(stopped.exitCode, 125);
  t.regex(stopped.stderr, new RegExp(`error: container ${name} is not running`));
  const unknown = await run(['healthcheck', 'run', `${prefix}nothere`]);
  t.is(unknown.exitCode, 125);
  t.regex(unknown.stderr, /is not installed/);
});

test.serial('rollback is health-gated too: a revision that is no longer healthy is not rolled back to; the current one runs again', async (t) => {
  const name = `${prefix}rb`;
  t.teardown(async () => void (await run(['uninstall', name])));
  const data = path.join(stateDir(), name, 'data');
  await mkdir(data, { recursive: true });
  await writeFile(path.join(data, 'one'), '');
  await writeFile(path.join(data, 'two'), '');
  const check = (file: string) => ['--health-cmd', `test -f /data/${file}`, '--health-interval', '1s', '--health-retries', '1'];
  const installed = await run(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${stateDir()}`, ...check('one'), image]);
  t.is(installed.exitCode, 0, installed.stderr);
  const updated = await run(['update', '--no-pull', ...check('two'), name]);
  t.is(updated.exitCode, 0, updated.stderr);
  t.regex(updated.stderr, /for \S+ to report healthy/, 'the update waited for the new check');
  await rm(path.join(data, 'one'));
  const back = await run(['rollback', name]);
  t.is(back.exitCode, 1, back.stderr);
  t.regex(back.stderr, new RegExp(`^error: container ${name}: rollback to revision 1 failed \\(${name}: revision 1 unhealthy: check failed 1 time with no output\\); revision 2 runs again$`, 'm'));
  const status = JSON.parse((await run(['status', '--json', name])).stdout) as { revision: number; state: string };
  t.is(status.revision, 2);
  t.is(status.state, 'running');
  t.is((await run(['healthcheck', 'run', name])).exitCode, 0, 'revision 2 is healthy');
});

test.serial('inside --health-start-period failures do not count; an update that stays starting past --health-deadline is rolled back', async (t) => {
  const name = `${prefix}sp`;
  t.teardown(async () => void (await run(['uninstall', name])));
  const data = path.join(stateDir(), name, 'data');
  await mkdir(data, { recursive: true });
  await writeFile(path.join(data, 'ok'), '');
  const installed = await run(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${stateDir()}`, '--health-cmd', 'test -f /data/ok', '--health-interval', '1s', '--health-retries', '1', image]);
  t.is(installed.exitCode, 0, installed.stderr);
  // One failure would make it unhealthy (retries 1), but inside the start period none counts:
  // the new deployment stays starting until the deadline, then the old one comes back.
  const began = Date.now();
  const updated = await run(['update', '--no-pull', '--health-cmd', 'test -f /data/never', '--health-start-period', '1m', '--health-deadline', '3s', name]);
  t.is(updated.exitCode, 1, updated.stderr);
  t.regex(updated.stderr, /Waiting up to 3s for \S+ to report healthy/);
  t.regex(updated.stderr, new RegExp(`^error: ${name}: new deployment not healthy within 3s: last check exited 1 with no output; rolled back to revision 1$`, 'm'));
  t.true(Date.now() - began < 60_000, `took ${Date.now() - began} ms`);
  const status = JSON.parse((await run(['status', '--json', name])).stdout) as { revision: number; state: string; health: { check: string } };
  t.is(status.revision, 1);
  t.is(status.state, 'running');
  t.regex(status.health.check, /^test -f \/data\/ok:/, 'the check of revision 1 is back');
  t.is((await run(['healthcheck', 'run', name])).exitCode, 0);
});

test.serial('TCP and HTTP probes (pod probes): made from outside, in the container\'s own network namespace when it has one', async (t) => {
  const port = 20_000 + (process.pid % 20_000);
  const web = `${prefix}web`;
  const priv = `${prefix}priv`;
  const app = createContext(readSettings({ ...process.env, ...env }));
  t.teardown(async () => {
    for (const name of [web, priv]) await run(['uninstall', name]);
  });
  // busybox httpd serves /data: /data/ready exists once the service made it.
  const served = await pushImage(registry!.host, 'health/web', 'v1', await healthImage('web', { Cmd: ['/bin/sh', '-c', `touch /data/ready; exec httpd -f -p 127.0.0.1:${port} -h /data`] }));
  const http = (path: string) => ({ health: { test: ['HTTP', `http://127.0.0.1:${port}${path}`] as ['HTTP', string], intervalMs: 1000, retries: 1, onFailure: 'none' as const } });
  await installImage(app, { name: web, image: served, system: true, set: { STATE_DIRECTORY: stateDir() }, service: http('/ready') });
  const passed = await run(['healthcheck', 'run', web]);
  t.is(passed.exitCode, 0, `${passed.stdout}${passed.stderr}`);
  t.is(passed.stdout.trim(), `${web}: healthy`);
  // Health-gated without systemd too: the gate runs the checks; a probe that fails rolls back.
  const rejected = await updateContainer(app, { name: web, pull: false, service: http('/missing') }).then(() => undefined, (error: Error) => error);
  t.regex(rejected?.message ?? '', new RegExp(`^${web}: new deployment unhealthy: HTTP 404 from http://127\\.0\\.0\\.1:${port}/missing; rolled back to revision 1$`));
  t.regex((await run(['status', web])).stdout, /Check:\s+HTTP http:\/\/127\.0\.0\.1:\d+\/ready/, 'the check that passed is back');

  // Its own network namespace (loopback only): the port is not on the host's loopback, so
  // only a probe made inside the container's namespace reaches it.
  await install(app.runtime, {
    name: priv,
    image: served,
    set: { STATE_DIRECTORY: path.join(stateDir(), 'priv') },
    containerSpec: { network: 'private' },
    service: { health: { test: ['TCP', `127.0.0.1:${port}`], intervalMs: 1000, retries: 1, onFailure: 'none' } },
  });
  await run(['uninstall', web]);
  const inside = await run(['healthcheck', 'run', priv]);
  t.is(inside.exitCode, 0, `${inside.stdout}${inside.stderr}`);
  const state = JSON.parse(await readFile(path.join(env.SYSCONTAINER_ROOT!, priv, 'health.json'), 'utf8'));
  t.is(state.log.at(-1).output, `connected to 127.0.0.1:${port}\n`);
});

const refused = test.macro({
  async exec(t, args: string[], message: RegExp) {
    const name = `${prefix}bad`;
    const result = await run(['install', '--system', '--name', name, ...args, image]);
    t.not(result.exitCode, 0);
    const [first, ...rest] = result.stderr.trim().split('\n');
    t.regex(first ?? '', /^error: /);
    t.regex(first ?? '', message);
    t.true(rest.every((line) => !line.startsWith('error')), 'one error line (and at most a hint)');
    t.false(existsSync(path.join(env.SYSCONTAINER_ROOT!, name)), 'nothing installed');
    t.false(existsSync(path.join(env.SYSCONTAINER_UNIT_DIR!, `${name}.service`)), 'no unit');
  },
  title: (provided = '') => `install refuses ${provided} before writing anything`,
});
test.serial('an interval without a unit', refused, ['--health-interval', '30'], /--health-interval "30" is not a duration/);
test.serial('a timeout of words', refused, ['--health-timeout', 'long'], /--health-timeout "long" is not a duration/);
test.serial('zero retries', refused, ['--health-retries', '0'], /--health-retries "0" is not a count/);
test.serial('an unknown action', refused, ['--health-on-failure', 'reboot'], /--health-on-failure "reboot"/);
test.serial('an unknown restart policy', refused, ['--restart', 'sometimes'], /--restart "sometimes" is not one of/);
test.serial('a bad dependency name', refused, ['--after', 'a/b'], /--after: container name "a\/b"/);
test.serial('a required container that is not installed', refused, ['--requires', `${prefix}missing`], /requires \S+missing, which is not installed/);

test.serial('nothing of the refused installs is left in the root', async (t) => {
  const entries = await readdir(env.SYSCONTAINER_ROOT!);
  t.false(entries.some((e) => e.startsWith(`${prefix}bad`)), entries.join(' '));
});
