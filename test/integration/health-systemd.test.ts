// Health checks that act, restart policies, ordering, health-gated updates and sd_notify,
// under a real systemd (the harness), with the real registry, ostree and runc, driven through
// the CLI as a user would. One harness boot for the file; checks every second.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanupRunc, cli, isolatedEnv, pushImage } from '../helpers/fault-kit.js';
import { healthImage, systemdNotifyFiles } from '../helpers/health-image.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { removeHarnessUnitCgroups, SystemdHarness, testBaseDir } from '../helpers/systemd-harness.js';
import { waitFor as waitForCheck } from '../helpers/wait-for.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox);
const s = 1_000_000_000;
const prefix = `hs${process.pid}`;
const n = (name: string) => `${prefix}${name}`;
let registry: RegistryServer | undefined;
let harness: SystemdHarness;
let base = '';
let env: Record<string, string> = {};
const images: Record<string, string> = {};

const goodCheck = { Test: ['CMD-SHELL', 'test -f /data/ready && echo ready'], Interval: s, Timeout: 2 * s, Retries: 2 };
const neverCheck = { Test: ['CMD-SHELL', 'echo "no /data/never here"; test -f /data/never'], Interval: s, Timeout: 2 * s, Retries: 2 };

test.before(async () => {
  base = await testBaseDir(`health-systemd-${process.pid}`);
  for (const dir of ['units', 'state']) await mkdir(path.join(base, dir), { recursive: true });
  registry = await startRegistry();
  const push = async (key: string, repo: string, tag: string, built: Parameters<typeof pushImage>[3]) => {
    images[key] = await pushImage(registry!.host, repo, tag, built);
  };
  const notify = await systemdNotifyFiles();
  await push('v1', 'hs/svc', 'v1', await healthImage('svc-v1', { Healthcheck: goodCheck }));
  await push('never', 'hs/svc', 'never', await healthImage('svc-never', { Healthcheck: neverCheck }));
  await push('plain', 'hs/plain', 'v1', await healthImage('plain-v1'));
  await push('exit0', 'hs/exit0', 'v1', await healthImage('exit0', { Cmd: ['/bin/sh', '-c', 'echo exit0-run; sleep 2; exit 0'] }));
  await push('crash', 'hs/crash', 'v1', await healthImage('crash', { Cmd: ['/bin/sh', '-c', 'echo crashing; exit 3'] }));
  // Says READY=1 three seconds after it starts (runc passes the notify socket in).
  await push('notify', 'hs/notify', 'v1', await healthImage('notify', { Cmd: ['/bin/sh', '-c', "sleep 3; /usr/bin/systemd-notify --ready; echo ready-sent; trap 'exit 0' TERM; while true; do sleep 1; done"] }, notify));
  for (const key of ['a', 'b', 'c']) await push(`all-${key}`, `hs/all-${key}`, 'latest', await healthImage(`all-${key}-v1`, { Healthcheck: goodCheck }));
  harness = await SystemdHarness.boot({ unitDir: path.join(base, 'units'), workDir: path.join(base, 'harness') });
  env = isolatedEnv(base, { SYSCONTAINER_SYSTEMD_NSENTER_PID: String(harness.pid), SYSCONTAINER_SETTLE_MS: '1000' });
});

test.after.always(async () => {
  await harness?.stop();
  await cleanupRunc(prefix);
  await registry?.stop();
  if (base !== '') await rm(base, { recursive: true, force: true });
  removeHarnessUnitCgroups(prefix);
});

const run = (args: string[]) => cli(args, env);
const stateOf = (name: string) => path.join(base, 'state', name);
const install = async (name: string, image: string, flags: string[] = []) => {
  const result = await run(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${path.join(base, 'state')}`, ...flags, image]);
  if (result.exitCode !== 0) throw new Error(`install ${name}: ${result.stderr}`);
  return result;
};
const statusJson = async (name: string) => JSON.parse((await run(['status', '--json', name])).stdout) as { state: string; revision: number; health?: { status: string; failingStreak: number; lastAction?: { action: string } }; dependencies?: { after: string[] } };
const show = async (unit: string, property: string) => (await harness.exec(['systemctl', 'show', '-p', property, '--value', unit])).stdout.trim();
const containerPid = async (name: string) => {
  const out = await harness.exec(['runc', 'state', name]);
  return out.exitCode === 0 ? (JSON.parse(out.stdout) as { pid: number; status: string }) : undefined;
};

const waitFor = (what: string, check: () => Promise<boolean>, ms = 45_000) => waitForCheck(what, check, ms);

test.serial('a passing check turns healthy; when it fails Retries times the unit is restarted, the journal says why, the streak resets', async (t) => {
  const name = n('hc');
  // Kept for the next test, which uninstalls it.
  await install(name, images.plain!, ['--health-cmd', 'test -f /data/ready', '--health-interval', '1s', '--health-retries', '2']);
  await waitFor('healthy', async () => (await statusJson(name)).health?.status === 'healthy');
  t.is(await show(`${name}-healthcheck.timer`, 'ActiveState'), 'active', 'the timer runs with the container');
  const listed = JSON.parse((await run(['containers', 'list', '--json'])).stdout) as { name: string; health?: string }[];
  t.is(listed.find((e) => e.name === name)?.health, 'healthy');
  t.regex((await run(['containers', 'list'])).stdout, new RegExp(`^${name}\\s.*\\shealthy\\s`, 'm'));
  const before = await containerPid(name);
  await rm(path.join(stateOf(name), 'data', 'ready'));
  await waitFor('the action to restart the container', async () => {
    const now = await containerPid(name);
    return now?.status === 'running' && now.pid !== before?.pid;
  });
  const journal = (await harness.exec(['journalctl', '--no-pager', '-u', `${name}.service`])).stdout;
  t.regex(journal, new RegExp(`${name}: unhealthy after 2 failed checks \\(last exit 1: no output\\); restart ${name}`));
  const after = await statusJson(name);
  t.is(after.health?.lastAction?.action, 'restart');
  // The service made /data/ready again when it restarted: healthy again, streak back at 0.
  await waitFor('healthy again', async () => (await statusJson(name)).health?.status === 'healthy');
  t.is((await statusJson(name)).health?.failingStreak, 0);
});

test.serial('the timer stops with the unit and starts with it; after uninstall no file and no loaded unit is left', async (t) => {
  const name = n('hc');
  t.teardown(async () => void (await run(['uninstall', name])));
  t.is((await run(['stop', name])).exitCode, 0);
  t.is(await show(`${name}-healthcheck.timer`, 'ActiveState'), 'inactive');
  t.is((await run(['start', name])).exitCode, 0);
  await waitFor('the timer', async () => (await show(`${name}-healthcheck.timer`, 'ActiveState')) === 'active');
  t.is((await run(['uninstall', name])).exitCode, 0);
  const left = (await readdir(path.join(base, 'units'), { recursive: true })).filter((f) => f.includes(name));
  t.deepEqual(left, []);
  for (const unit of [`${name}.service`, `${name}-healthcheck.timer`, `${name}-healthcheck.service`]) {
    t.is(await show(unit, 'LoadState'), 'not-found', unit);
  }
});

test.serial('an update to an image whose check never passes is rolled back by itself within the deadline; the old revision serves', async (t) => {
  const name = n('gw');
  t.teardown(async () => void (await run(['uninstall', name])));
  await install(name, images.v1!);
  await waitFor('healthy', async () => (await statusJson(name)).health?.status === 'healthy');
  const began = Date.now();
  const update = await run(['update', '--rebase', images.never!, name]);
  const took = Date.now() - began;
  t.is(update.exitCode, 1);
  t.regex(update.stderr, new RegExp(`error: ${name}: new deployment unhealthy: no /data/never here; rolled back to revision 1`));
  t.true(took < 60_000, `took ${took} ms`);
  const marker = await run(['exec', name, 'cat', '/etc/marker']);
  t.is(marker.stdout.trim(), 'svc-v1');
  const st = await statusJson(name);
  t.is(st.revision, 1);
  t.is(st.state, 'running');
  t.deepEqual((await readdir(path.join(env.SYSCONTAINER_ROOT!))).filter((e) => e.startsWith(`${name}.`)), [`${name}.0`], 'the failed deployment is not kept');
});

test.serial('the health units are swapped with the deployment: update --no-healthcheck removes them, rollback brings them back', async (t) => {
  const name = n('sw');
  t.teardown(async () => void (await run(['uninstall', name])));
  const files = [`${name}-healthcheck.timer`, `${name}-healthcheck.service`].map((unit) => path.join(base, 'units', unit));
  await install(name, images.v1!);
  t.true(files.every((file) => existsSync(file)), 'the image check gives a timer and a service');
  const updated = await run(['update', '--no-pull', '--no-healthcheck', name]);
  t.is(updated.exitCode, 0, updated.stderr);
  t.deepEqual(files.filter((file) => existsSync(file)), [], 'no check, no health units');
  t.is(await show(`${name}-healthcheck.timer`, 'LoadState'), 'not-found');
  t.is((await statusJson(name)).health, undefined);
  const back = await run(['rollback', name]);
  t.is(back.exitCode, 0, back.stderr);
  t.true(files.every((file) => existsSync(file)), 'revision 1 has its check again');
  t.is(await show(`${name}-healthcheck.timer`, 'ActiveState'), 'active');
  // The rollback itself waited for the check of revision 1 to pass.
  t.is((await statusJson(name)).health?.status, 'healthy');
});

test.serial('update --all: two updated, one rolled back, the summary printed, exit non-zero', async (t) => {
  // Kept for the auto-update test below, which uninstalls them; a and c are opted in to auto-update.
  await install(n('alla'), images['all-a']!, ['--auto-update']);
  await install(n('allb'), images['all-b']!);
  await install(n('allc'), images['all-c']!, ['--auto-update']);
  await pushImage(registry!.host, 'hs/all-a', 'latest', await healthImage('all-a-v2', { Healthcheck: goodCheck }));
  await pushImage(registry!.host, 'hs/all-b', 'latest', await healthImage('all-b-v2', { Healthcheck: goodCheck }));
  await pushImage(registry!.host, 'hs/all-c', 'latest', await healthImage('all-c-v2', { Healthcheck: neverCheck }));
  const result = await run(['update', '--all']);
  t.is(result.exitCode, 1, result.stdout);
  t.regex(result.stdout, /^NAME\s+RESULT\s+DETAIL$/m);
  t.regex(result.stdout, new RegExp(`^${n('alla')}\\s+updated\\s+revision 2`, 'm'));
  t.regex(result.stdout, new RegExp(`^${n('allb')}\\s+updated\\s+revision 2`, 'm'));
  t.regex(result.stdout, new RegExp(`^${n('allc')}\\s+rolled back\\s+${n('allc')}: new deployment unhealthy`, 'm'));
  t.regex(result.stdout, /update --all: 2 updated, 0 unchanged, 1 rolled back, 0 failed/);
  const c = await run(['exec', n('allc'), 'cat', '/etc/marker']);
  t.is(c.stdout.trim(), 'all-c-v1', `${c.stderr}\n${(await run(['status', n('allc')])).stdout}`);
  t.is((await run(['exec', n('alla'), 'cat', '/etc/marker'])).stdout.trim(), 'all-a-v2');
});

test.serial('auto-update: only opted-in containers; --dry-run pulls nothing; a changed image is updated, an unhealthy one rolled back; --install-timer', async (t) => {
  const [a, b, c] = [n('alla'), n('allb'), n('allc')];
  t.teardown(async () => {
    await harness.exec(['systemctl', 'disable', '--now', 'syscontainer-auto-update.timer']);
    for (const unit of ['syscontainer-auto-update.timer', 'syscontainer-auto-update.service']) await rm(path.join(base, 'units', unit), { force: true });
    for (const name of [a, b, c]) await run(['uninstall', name]);
  });
  const marker = async (name: string) => (await run(['exec', name, 'cat', '/etc/marker'])).stdout.trim();
  await pushImage(registry!.host, 'hs/all-a', 'latest', await healthImage('all-a-v3', { Healthcheck: goodCheck }));
  await pushImage(registry!.host, 'hs/all-b', 'latest', await healthImage('all-b-v3', { Healthcheck: goodCheck }));
  const imagesBefore = (await run(['images', 'list', '--json'])).stdout;
  const dry = await run(['auto-update', '--dry-run']);
  t.is(dry.exitCode, 0, dry.stderr);
  t.regex(dry.stdout, new RegExp(`^${a}\\s+\\S+\\s+would update\\s+sha256:`, 'm'));
  // c still runs v1: the registry's latest is the unhealthy v2.
  t.regex(dry.stdout, new RegExp(`^${c}\\s+\\S+\\s+would update`, 'm'));
  t.false(dry.stdout.includes(b), 'a container installed without --auto-update is left alone');
  t.is((await run(['images', 'list', '--json'])).stdout, imagesBefore, 'a dry run pulls nothing');

  const updated = await run(['auto-update']);
  t.is(updated.exitCode, 1, 'non-zero: one was rolled back');
  t.regex(updated.stdout, new RegExp(`^${a}\\s+\\S+\\s+updated\\s+revision 3`, 'm'));
  t.regex(updated.stdout, new RegExp(`^${c}\\s+\\S+\\s+rolled back\\s+${c}: new deployment unhealthy: no /data/never here; rolled back to revision 1`, 'm'));
  t.is(await marker(a), 'all-a-v3');
  t.is(await marker(c), 'all-c-v1');
  t.is(await marker(b), 'all-b-v2', 'not opted in: not updated');
  const again = await run(['auto-update', '--dry-run']);
  t.regex(again.stdout, new RegExp(`^${a}\\s+\\S+\\s+unchanged`, 'm'));

  const timer = await run(['auto-update', '--install-timer']);
  t.is(timer.exitCode, 0, timer.stderr);
  t.regex(timer.stdout, /the timer is enabled and started/);
  t.is(await show('syscontainer-auto-update.timer', 'ActiveState'), 'active');
  t.regex(await show('syscontainer-auto-update.service', 'ExecStart'), new RegExp(`--root ${env.SYSCONTAINER_ROOT} auto-update`));
});

test.serial('restart policies: no leaves a killed container dead; always restarts after exit 0; a crash loop ends failed', async (t) => {
  const dead = n('rno');
  const again = n('ralways');
  const loop = n('rloop');
  t.teardown(async () => {
    for (const name of [dead, again, loop]) await run(['uninstall', name]);
  });
  await install(dead, images.plain!, ['--restart', 'no']);
  const pid = (await containerPid(dead))?.pid;
  await harness.exec(['kill', '-9', String(pid)]);
  await waitFor('the unit to stop', async () => (await show(`${dead}.service`, 'ActiveState')) !== 'active');
  await sleep(2500);
  t.not(await show(`${dead}.service`, 'ActiveState'), 'active', 'not restarted');
  t.is(await show(`${dead}.service`, 'NRestarts'), '0');

  await install(again, images.exit0!, ['--restart', 'always']);
  await waitFor('a restart after exit 0', async () => Number(await show(`${again}.service`, 'NRestarts')) >= 1);
  t.pass();

  await install(loop, images.crash!, ['--restart', 'always', '--no-start']);
  await harness.exec(['systemctl', 'start', '--no-block', `${loop}.service`]);
  // systemd 252 leaves Result=exit-code and says why in the journal; later ones say start-limit-hit.
  const limited = async () =>
    (await show(`${loop}.service`, 'ActiveState')) === 'failed' &&
    /Start request repeated too quickly/.test((await harness.exec(['journalctl', '--no-pager', '-u', `${loop}.service`])).stdout);
  await waitFor('the start limit', limited, 30_000);
  t.is(await show(`${loop}.service`, 'NRestarts'), '5', 'five restarts, then it stays failed');
  await sleep(1500);
  t.is(await show(`${loop}.service`, 'ActiveState'), 'failed');
});

test.serial('sd_notify: systemctl start returns only once the service said READY=1', async (t) => {
  const name = n('ready');
  // Kept for the boot-order test below, which uninstalls it.
  await install(name, images.notify!, ['--notify', '--no-start']);
  t.is(await show(`${name}.service`, 'Type'), 'notify');
  t.is(await show(`${name}.service`, 'NotifyAccess'), 'all');
  const began = Date.now();
  const started = await harness.exec(['systemctl', 'start', `${name}.service`]);
  const took = Date.now() - began;
  t.is(started.exitCode, 0, started.stderr);
  t.true(took >= 2800, `systemctl start returned after ${took} ms, before READY`);
  t.is(await show(`${name}.service`, 'ActiveState'), 'active');
  t.regex((await harness.exec(['journalctl', '--no-pager', '-u', `${name}.service`])).stdout, /ready-sent/);
});

test.serial('boot order: after a reboot a container ordered --after another starts once that one is up; --requires of a missing one is refused; an unless-stopped one stopped by hand stays down', async (t) => {
  const first = n('ready');
  const second = n('after');
  const stopped = n('unless');
  t.teardown(async () => {
    for (const name of [first, second, stopped]) await run(['uninstall', name]);
  });
  const missing = n('later');
  const installed = await install(second, images.plain!, ['--after', first, '--wants', missing]);
  t.regex(installed.stderr, new RegExp(`warning: ${second} is ordered after ${missing}, which is not installed \\(yet\\)`), 'a missing --wants is a warning');
  t.deepEqual((await statusJson(second)).dependencies?.after, [first]);
  const listed = JSON.parse((await run(['containers', 'list', '--json'])).stdout) as { name: string; dependencies?: unknown }[];
  t.deepEqual(listed.find((e) => e.name === second)?.dependencies, { requires: [], wants: [missing], after: [first] });
  await install(stopped, images.plain!, ['--restart', 'unless-stopped']);
  t.is((await run(['stop', stopped])).exitCode, 0);
  const refused = await run(['install', '--system', '--name', n('req'), '--requires', n('nothere'), images.plain!]);
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, new RegExp(`requires ${n('nothere')}, which is not installed`));
  await run(['start', first]);
  await harness.reboot();
  // A new boot is a new systemd: the CLI must enter it (the teardown's uninstalls too).
  env.SYSCONTAINER_SYSTEMD_NSENTER_PID = String(harness.pid);
  await waitFor('both to run after boot', async () => (await show(`${second}.service`, 'ActiveState')) === 'active' && (await show(`${first}.service`, 'ActiveState')) === 'active', 30_000);
  // first is Type=notify and becomes active 3 s after it starts: second must not start before.
  const firstActive = Number(await show(`${first}.service`, 'ActiveEnterTimestampMonotonic'));
  const firstStart = Number(await show(`${first}.service`, 'ExecMainStartTimestampMonotonic'));
  const secondStart = Number(await show(`${second}.service`, 'ExecMainStartTimestampMonotonic'));
  t.true(firstActive - firstStart >= 2_500_000, 'first took its 3 s to say READY');
  t.true(secondStart >= firstActive, `second started ${(firstActive - secondStart) / 1e6} s before first was up`);
  t.is(await show(`${stopped}.service`, 'ActiveState'), 'inactive', 'unless-stopped: not started again after an explicit stop');
  t.is((await run(['start', stopped])).exitCode, 0);
  t.is(await show(`${stopped}.service`, 'UnitFileState'), 'enabled', 'start undoes it: at the next boot it starts');
});
