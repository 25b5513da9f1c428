// `syscontainer healthcheck run NAME`: runs the container's check inside it (runc exec), with
// its timeout enforced and the check killed after it, records the result in the deployment's
// health.json, and after `retries` failures in a row runs the on-failure action. What the
// timer starts every interval on every host, so it loads only node: modules and a few small
// files of ours: the action, which is rare, is delegated to the full CLI (`restart`/`stop`
// through the supervisor, under the container's lock).
import { existsSync } from 'node:fs';
import { readFile, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../../common/errors.js';
import { validateContainerName } from '../container-name.js';
import { withPrefix } from '../command-prefix.js';
import { checkPlan, parseStoredHealthCheck } from './check-command.js';
import type { HealthCheck } from './health-check.js';
import { cutOutput, readHealthState, recordHealthAction, recordHealthResult, writeHealthState, type HealthResult, type HealthState } from './health-state.js';
import { runProbe } from './probe.js';
import { runProcess } from './run-process.js';

export interface HealthRunContext {
  root: string;
  /** Command prefix for runc (nsenter into the test harness); [] on a host. */
  prefix: readonly string[];
  /** The full CLI (`node /path/syscontainer.mjs`), which runs the on-failure action. */
  cli: readonly string[];
  /**
   * The light entry (`node /path/syscontainer-healthcheck.mjs`), which makes a TCP or HTTP
   * probe inside the network namespace of a container that has one of its own.
   */
  probeCli: readonly string[];
  /** Lines for the journal (stdout of the health service) or the user. */
  log: (line: string) => void;
  /**
   * The environment the full CLI of the on-failure action runs with: the one this command's
   * settings were read from, so it acts on the same root, unit directory and systemd.
   */
  env: Readonly<NodeJS.ProcessEnv>;
  now?: () => Date;
}

export interface HealthRunOutcome {
  /** 0 healthy, 1 unhealthy (or failing, not yet unhealthy), 125 could not run the check. */
  exitCode: 0 | 1 | 125;
  state?: HealthState;
  result?: HealthResult;
  action?: string;
}

interface Target {
  dir: string;
  check: HealthCheck;
  runtime: string;
}

/** The active deployment's directory and check; ENOTFOUND when there is none. */
async function target(root: string, name: string): Promise<Target> {
  validateContainerName(name);
  const link = await readlink(path.join(root, name)).catch(() => undefined);
  if (link !== `${name}.0` && link !== `${name}.1`) throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed`);
  const dir = path.join(root, link);
  let info: { healthcheck?: unknown; runtime?: unknown };
  try {
    info = JSON.parse(await readFile(path.join(dir, 'info'), 'utf8')) as typeof info;
  } catch {
    throw new SyscontainerError('ENOTFOUND', `container ${name} is not installed (no readable info in ${dir})`);
  }
  if (info.healthcheck === undefined) throw new SyscontainerError('ENOTFOUND', `container ${name} has no health check`);
  const check = parseStoredHealthCheck(info.healthcheck);
  if (check === undefined || typeof info.runtime !== 'string') throw new SyscontainerError('ECONFIG', `container ${name}: the health check in ${dir}/info is malformed`);
  return { dir, check, runtime: info.runtime };
}

interface ContainerState {
  status: string;
  created: string;
  /** The container's init, as the runtime's namespace sees it (the harness's, with a prefix). */
  pid: number;
}

/** runc's view of the container: its status, start time and pid; undefined when runc does not know it. */
async function containerState(ctx: HealthRunContext, runtime: string, name: string): Promise<ContainerState | undefined> {
  const [file, args] = withPrefix(ctx.prefix, runtime, ['state', name]);
  const result = await runProcess(file, args, { timeoutMs: 10_000 });
  if (result.exitCode !== 0) return undefined;
  try {
    const state = JSON.parse(result.stdout) as { status?: unknown; created?: unknown; pid?: unknown };
    if (typeof state.status !== 'string' || typeof state.created !== 'string') return undefined;
    return { status: state.status, created: state.created, pid: Number.isInteger(state.pid) ? (state.pid as number) : 0 };
  } catch {
    return undefined;
  }
}

/** Whether the deployment's config.json gives the container a network namespace of its own (a new one, or a pod's). */
async function ownNetwork(dir: string): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { linux?: { namespaces?: { type?: unknown }[] } };
    return (config.linux?.namespaces ?? []).some((ns) => ns.type === 'network');
  } catch {
    return false;
  }
}

/**
 * A TCP or HTTP probe of the container: made here when it shares the host's network, else by
 * the light entry started in its network namespace (`nsenter --net=/proc/PID/ns/net`).
 */
async function probeCheck(ctx: HealthRunContext, t: Target, state: ContainerState, protocol: 'TCP' | 'HTTP', target: string): Promise<{ exitCode: number; output: string }> {
  if (!(await ownNetwork(t.dir))) {
    const result = await runProbe(protocol, target, t.check.timeoutMs);
    return { exitCode: result.ok ? 0 : 1, output: `${result.output}\n` };
  }
  const [probe, ...probeArgs] = ctx.probeCli;
  if (probe === undefined || !(state.pid > 1)) return { exitCode: -1, output: 'cannot enter the container\'s network namespace to probe it\n' };
  const argv = ['--net=/proc/' + String(state.pid) + '/ns/net', '--', probe, ...probeArgs, 'probe', protocol, target, String(t.check.timeoutMs)];
  const [file, args] = withPrefix(ctx.prefix, 'nsenter', argv);
  const result = await runProcess(file, args, { timeoutMs: t.check.timeoutMs + 5000 });
  return { exitCode: result.exitCode === 0 ? 0 : 1, output: `${result.stdout}${result.stderr}` };
}

/** A TCP or HTTP probe of the running container, timed. */
async function probe(ctx: HealthRunContext, t: Target, state: ContainerState, protocol: 'TCP' | 'HTTP', target: string): Promise<HealthResult> {
  const start = (ctx.now ?? (() => new Date()))();
  const result = await probeCheck(ctx, t, state, protocol, target);
  const end = (ctx.now ?? (() => new Date()))();
  return { exitCode: result.exitCode, start: start.toISOString(), end: end.toISOString(), output: cutOutput(result.output) };
}

/** Runs a command check in the container; at the timeout the checked process is killed (by the pid runc wrote). */
async function execCheck(ctx: HealthRunContext, t: Target, name: string, argv: readonly string[]): Promise<HealthResult> {
  const pidFile = path.join(t.dir, '.healthcheck.pid');
  await rm(pidFile, { force: true });
  const [file, args] = withPrefix(ctx.prefix, t.runtime, ['exec', '--pid-file', pidFile, name, ...argv]);
  const now = ctx.now ?? (() => new Date());
  const start = now();
  const result = await runProcess(file, args, {
    timeoutMs: t.check.timeoutMs,
    onTimeout: async () => {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!(pid > 1)) return;
      // The pid is runc's view: inside the harness's namespace when there is a prefix.
      if (ctx.prefix.length === 0) process.kill(pid, 'SIGKILL');
      else {
        const [killFile, killArgs] = withPrefix(ctx.prefix, 'kill', ['-KILL', String(pid)]);
        await runProcess(killFile, killArgs, { timeoutMs: 5000 });
      }
    },
  });
  await rm(pidFile, { force: true });
  const end = now();
  let output = `${result.stdout}${result.stderr}`;
  if (result.spawnError) output = `cannot run ${t.runtime}: ${result.spawnError.message}`;
  if (result.timedOut) output = `${output}${output === '' || output.endsWith('\n') ? '' : '\n'}health check timed out after ${t.check.timeoutMs / 1000}s`;
  return { exitCode: result.timedOut ? -1 : result.exitCode, start: start.toISOString(), end: end.toISOString(), output: cutOutput(output) };
}

/** The on-failure action, through the full CLI (the supervisor, the container's lock, no waiting for it). */
async function act(ctx: HealthRunContext, t: Target, name: string): Promise<string> {
  const action = t.check.onFailure;
  if (action === 'kill') {
    // As podman: the container's init gets SIGKILL and the unit's Restart= decides what follows.
    const [file, args] = withPrefix(ctx.prefix, t.runtime, ['kill', name, 'KILL']);
    const result = await runProcess(file, args, { timeoutMs: 10_000 });
    return result.exitCode === 0 ? 'killed' : `kill failed: ${cutOutput(result.stderr.trim(), 300)}`;
  }
  const [cli, ...cliArgs] = ctx.cli;
  if (cli === undefined) return `${action} skipped: no CLI to run it`;
  // An update or another command holds the container: it decides, the health action does not wait.
  const env = { ...ctx.env, SYSCONTAINER_LOCK_WAIT_MS: '0' };
  const result = await runProcess(cli, [...cliArgs, '--root', ctx.root, action, name], { env, timeoutMs: 5 * 60_000 });
  const why = cutOutput(`${result.stderr}${result.stdout}`.trim().split('\n').at(-1) ?? '', 300);
  if (result.exitCode === 0) return action === 'restart' ? 'restarted' : 'stopped';
  return `${action} failed: ${why}`;
}

/**
 * Logs `message` in the journal as being about NAME.service (OBJECT_SYSTEMD_UNIT, as root), so
 * `journalctl -u NAME` shows why its container was restarted. Best effort: no journal, no line.
 */
async function journal(ctx: HealthRunContext, name: string, message: string): Promise<void> {
  const fields = [`MESSAGE=${message.replace(/\n/g, ' ')}`, `OBJECT_SYSTEMD_UNIT=${name}.service`, 'SYSLOG_IDENTIFIER=syscontainer-healthcheck', 'PRIORITY=4'];
  const [file, args] = withPrefix(ctx.prefix, 'logger', ['--journald']);
  await runProcess(file, args, { input: `${fields.join('\n')}\n`, timeoutMs: 5000 });
}

/** Runs the check of container `name` once. Throws only for "cannot run" (exit 125) cases. */
export async function runHealthCheck(ctx: HealthRunContext, name: string, options: { act?: boolean } = {}): Promise<HealthRunOutcome> {
  const t = await target(ctx.root, name);
  const plan = checkPlan(t.check);
  // A command check runs beside `runc state` rather than after it (one runc start less to wait
  // for, every interval): the state then says whether the result counts. A probe needs the
  // container's pid (its network namespace) first.
  const [state, execResult] = await Promise.all([containerState(ctx, t.runtime, name), plan.via === 'exec' ? execCheck(ctx, t, name, plan.argv) : undefined]);
  if (state?.status !== 'running') throw new SyscontainerError('ERUNTIME', `container ${name} is not running`);
  const result = plan.via === 'exec' ? (execResult as HealthResult) : await probe(ctx, t, state, plan.protocol, plan.target);
  const now = (ctx.now ?? (() => new Date()))();
  const inStartPeriod = now.getTime() - Date.parse(state.created) < t.check.startPeriodMs;
  const previous = await readHealthState(t.dir);
  const recorded = recordHealthResult(previous, result, { retries: t.check.retries, inStartPeriod, containerStart: state.created });
  let next = recorded.state;
  let action: string | undefined;
  // The health gate of an update runs checks without acting: the update decides then.
  const gated = existsSync(path.join(t.dir, '.health-gate'));
  if (recorded.actionDue && t.check.onFailure !== 'none' && options.act !== false && !gated) {
    const output = result.output.trim().split('\n').slice(-3).join(' / ');
    const why = `${name}: unhealthy after ${t.check.retries} failed checks (last exit ${result.exitCode}: ${output === '' ? 'no output' : output}); ${t.check.onFailure} ${name}`;
    ctx.log(why);
    await journal(ctx, name, why);
    // Written before acting: a restart may stop this very process with the container's unit.
    next = recordHealthAction(next, t.check.onFailure, now);
    await writeHealthState(t.dir, next);
    action = await act(ctx, t, name);
    ctx.log(`${name}: ${action}`);
  } else {
    await writeHealthState(t.dir, next);
  }
  return { exitCode: result.exitCode === 0 ? 0 : 1, state: next, result, ...(action !== undefined ? { action } : {}) };
}
