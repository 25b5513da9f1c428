// The lifecycle of installed system containers: install, update, rollback, uninstall,
// start/stop/restart/status, exec, logs, and the listing.
import {
  containerLogs,
  containerStatus,
  execInContainer,
  followContainerLogs,
  installImage,
  listContainers,
  containerFilterKeys,
  restartContainer,
  rollbackContainer,
  startContainer,
  stopContainer,
  SyscontainerError,
  uninstallContainer,
  updateAll,
  updateContainer,
  type AppContext,
  type ContainerStatus,
  type DeploymentResult,
  type OperationEvents,
  type UpdateAllEntry,
  type UpdateAllInput,
} from '../../app/index.js';
import { onlyArgument, setValues, stringList, stringOption } from '../arguments.js';
import type { Command } from '../command.js';
import { formatAge, shortId } from '../format.js';
import { jsonOption, type Output } from '../output.js';
import { pullProgress } from './pull-progress.js';
import { confinedOption, privilegedOption, runtimeOptions, setOption } from './runtime-options.js';
import { healthDeadlineOf, healthDeadlineOption, serviceOptions, serviceOptionsOf, serviceOptionsUsage } from './service-options.js';

/** What the operations say as they go (the runtime's lines, pull progress). */
function events(out: Output): OperationEvents {
  return { log: (line) => out.info(line), warn: (line) => out.warn(line), onPull: pullProgress(out) };
}

/** The runtime already said what it did; the privileges granted are shown too. */
function reportDeployment(out: Output, result: DeploymentResult): void {
  for (const line of result.privileges) out.info(`privilege granted: ${line}`);
}

const install: Command = {
  name: ['install'],
  summary: 'install an image as a system container: checkout, config.json, systemd unit, host files; enable and start',
  usage: `[--system] [--name NAME] [--set KEY=VALUE]... [--rootfs PATH] [--runtime PATH] [--unit-dir DIR] [--no-start] [--force] [--privileged | --confined] [--no-pull] ${serviceOptionsUsage} IMAGE`,
  progress: true,
  options: {
    system: { type: 'boolean', description: 'install as a system container (not needed for images labelled atomic.type=system)' },
    name: { type: 'string', short: 'n', placeholder: 'NAME', description: "the container's name: 1-64 of [A-Za-z0-9_.-], not starting with . or - (default: the image's name without registry and tag)" },
    ...setOption,
    'no-start': { type: 'boolean', description: 'install and enable, but do not start it' },
    force: { type: 'boolean', description: 'replace an installed container of that name (its state directory is kept)' },
    ...privilegedOption,
    ...confinedOption,
    'no-pull': { type: 'boolean', description: 'use only what the store has; do not pull a missing image' },
    rootfs: { type: 'string', placeholder: 'PATH', description: 'run this exploded rootfs, read-only and in place, instead of the image\'s' },
    ...serviceOptions,
    ...runtimeOptions,
  },
  async run({ app, out, args, options }) {
    const image = onlyArgument(args, 'install', 'IMAGE');
    const name = stringOption(options, 'name');
    if (name === '') throw new SyscontainerError('EUSAGE', 'install --name needs a NAME');
    if (options.privileged === true && options.confined === true) throw new SyscontainerError('EUSAGE', 'install takes --privileged or --confined, not both');
    const rootfs = stringOption(options, 'rootfs');
    const service = serviceOptionsOf(options);
    const result = await installImage(
      app,
      {
        ...(name !== undefined ? { name } : {}),
        image,
        system: options.system === true,
        set: setValues(options),
        force: options.force === true,
        privileged: options.privileged === true,
        // An operator at the host's CLI: what the image's own /exports declare is granted, and printed.
        privileges: 'declared',
        confined: options.confined === true,
        start: options['no-start'] !== true,
        pull: options['no-pull'] !== true,
        service,
        ...(rootfs !== undefined ? { rootfs } : {}),
      },
      events(out),
    );
    if (result.mode === 'ran-once') {
      out.commandOutput(result.run.stdout, result.run.stderr);
      return result.run.exitCode;
    }
    // Atomic's words, on stdout: scripts grep them.
    if (!result.deployment.changed) out.result(`${result.deployment.name} already present`);
    reportDeployment(out, result.deployment);
  },
};

/** One row of update --all's table: NAME, RESULT, DETAIL. */
function summaryRow(entry: UpdateAllEntry): string[] {
  if (!entry.ok) return [entry.name, entry.outcome, entry.error instanceof Error ? entry.error.message : String(entry.error)];
  const { info } = entry.result;
  return [entry.name, entry.outcome, entry.outcome === 'updated' ? `revision ${info.revision} (${info.image})` : info.image];
}

async function updateEvery(app: AppContext, out: Output, input: UpdateAllInput): Promise<number> {
  const result = await updateAll(app, input, {
    ...events(out),
    onResult: (entry) => {
      if (entry.ok) return reportDeployment(out, entry.result);
      out.dropProgress(); // a failed pull's layers are not drawn on under the next container's
      out.error(entry.error, app.settings.debug);
    },
  });
  // One row per container, and a non-zero exit when any was rolled back or failed.
  out.result('');
  out.table(['NAME', 'RESULT', 'DETAIL'], result.entries.map(summaryRow));
  const { counts } = result;
  out.result(`update --all: ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts['rolled back']} rolled back, ${counts.failed} failed`);
  return result.failed > 0 ? 1 : 0;
}

const update: Command = {
  name: ['update'],
  summary: 'pull the newer image and redeploy into the other slot; rolls back if it fails to start or does not turn healthy',
  usage: `(NAME | --all) [--set KEY=VALUE]... [--rebase IMAGE] [--no-pull] [--force] [--privileged | --confined] [--health-deadline D] ${serviceOptionsUsage}`,
  progress: true,
  options: {
    all: { type: 'boolean', description: 'update every installed container, going on past failures; prints a summary' },
    ...setOption,
    rebase: { type: 'string', placeholder: 'IMAGE', description: 'move the container to another image' },
    'no-pull': { type: 'boolean', description: 'use what the store has; do not pull first' },
    force: { type: 'boolean', description: 'redeploy even when image and values are unchanged' },
    ...privilegedOption,
    ...healthDeadlineOption,
    ...serviceOptions,
    ...confinedOption,
    ...runtimeOptions,
  },
  async run({ app, out, args, options }) {
    const input = {
      set: setValues(options),
      pull: options['no-pull'] !== true,
      force: options.force === true,
      privileged: options.privileged === true,
      service: serviceOptionsOf(options),
      ...healthDeadlineOf(options),
      privileges: 'declared' as const,
      confined: options.confined === true,
    };
    if (options.all) {
      if (args.length > 0) throw new SyscontainerError('EUSAGE', 'update --all takes no NAME');
      if (options.rebase) throw new SyscontainerError('EUSAGE', 'update --all cannot --rebase');
      return updateEvery(app, out, input);
    }
    const rebase = stringOption(options, 'rebase');
    const result = await updateContainer(app, { ...input, name: onlyArgument(args, 'update'), ...(rebase !== undefined ? { rebase } : {}) }, events(out));
    // Atomic's words, on stdout: scripts grep them.
    if (!result.changed) out.result('Latest version already installed');
    reportDeployment(out, result);
  },
};

const rollback: Command = {
  name: ['rollback'],
  summary: 'switch back to the previous deployment, unit and all',
  usage: '[--health-deadline D] NAME',
  options: { ...healthDeadlineOption, ...runtimeOptions },
  async run({ app, out, args, options }) {
    reportDeployment(out, await rollbackContainer(app, { name: onlyArgument(args, 'rollback'), ...healthDeadlineOf(options) }, events(out)));
  },
};

const uninstall: Command = {
  name: ['uninstall'],
  summary: 'stop and remove a container: unit, tmpfiles, deployments (--purge: its state too)',
  usage: '[--purge] NAME',
  options: { purge: { type: 'boolean', description: "also remove the container's state directory" }, ...runtimeOptions },
  async run({ app, out, args, options }) {
    await uninstallContainer(app, { name: onlyArgument(args, 'uninstall'), purge: options.purge === true }, events(out));
  },
};

function simple(verb: 'start' | 'stop' | 'restart', summary: string, operation: typeof startContainer): Command {
  return {
    name: [verb],
    summary,
    usage: 'NAME',
    options: runtimeOptions,
    async run({ app, out, args }) {
      const name = onlyArgument(args, verb);
      await operation(app, { name }, events(out));
      out.result(`${name}: ${verb === 'stop' ? 'stopped' : 'running'}`);
    },
  };
}

/** What status says of the restart policy, ordering, notify, auto-update and health. */
function serviceLines(result: ContainerStatus): string[] {
  const lines: string[] = [];
  if (result.restart) lines.push(`Restart:    ${result.restart}${result.restartRetries ? ` (at most ${result.restartRetries} restarts until the next start)` : ''}`);
  if (result.restarts > 0) lines.push(`Restarts:   ${result.restarts} since the last start`);
  const deps = result.dependencies;
  const ordering = [...deps.requires.map((d) => `requires ${d}`), ...deps.wants.map((d) => `wants ${d}`), ...deps.after.map((d) => `after ${d}`)];
  if (ordering.length > 0) lines.push(`Ordering:   ${ordering.join(', ')}`);
  if (result.notify) lines.push('Notify:     the service says READY (Type=notify)');
  if (result.autoUpdate) lines.push('Auto-update: yes');
  const health = result.health;
  if (health) {
    lines.push(`Health:     ${health.status}${health.failingStreak > 0 ? ` (failing streak ${health.failingStreak})` : ''}`);
    lines.push(`Check:      ${health.check}${health.timer ? '' : ' (no timer runs it: systemd is not running; use syscontainer healthcheck run)'}`);
    const last = health.log.at(-1);
    if (last) lines.push(`Last check: exit ${last.exitCode} at ${last.end}${last.exitCode !== 0 && last.output.trim() !== '' ? `: ${last.output.trim().split('\n').at(-1)}` : ''}`);
    if (health.lastAction) lines.push(`Last action: ${health.lastAction.action} at ${health.lastAction.at}`);
  }
  return lines;
}

const status: Command = {
  name: ['status'],
  summary: 'show the state of a container (and systemd status when systemd runs it)',
  usage: '[--json] NAME',
  options: { ...jsonOption, ...runtimeOptions },
  async run({ app, out, args, options }) {
    const result = await containerStatus(app, { name: onlyArgument(args, 'status') });
    out.jsonOr(options, result, () => {
      out.result(`Name:       ${result.name}`);
      out.result(`Image:      ${result.image} (${shortId(result.imageId)})`);
      out.result(`State:      ${result.state}${result.pid ? ` (pid ${result.pid})` : ''}`);
      if (result.lastExit) out.result(`Last exit:  status ${result.lastExit.exitCode} (${result.lastExit.result}) at ${result.lastExit.finishedAt.toISOString()}`);
      out.result(`Managed by: ${result.managedBy}${result.enabled === undefined ? '' : result.enabled ? ', enabled' : ', disabled'}`);
      out.result(`Runtime:    ${result.runtime}`);
      out.result(`Deployment: ${result.deployment} (revision ${result.revision})${result.origin === 'atomic' ? ', written by atomic' : ''}`);
      for (const [index, privilege] of result.privileges.entries()) out.result(`${index === 0 ? 'Privileges:' : '           '} ${privilege}`);
      for (const line of serviceLines(result)) out.result(line);
      if (result.details) out.result(`\n${result.details}`);
    });
  },
};

const containers: Command = {
  name: ['containers', 'list'],
  summary: 'list installed system containers',
  usage: '[--json] [-q|--quiet] [-a|--all] [--no-trunc] [-f|--filter KEY=VALUE]...',
  options: {
    ...jsonOption,
    quiet: { type: 'boolean', short: 'q', description: 'print the names only' },
    // Atomic's --all added stopped containers; every installed one is listed here anyway.
    all: { type: 'boolean', short: 'a', description: 'every installed container, running or not (the default; as atomic scripts type it)' },
    'no-trunc': { type: 'boolean', description: 'do not shorten image ids and commands' },
    filter: { type: 'string', short: 'f', multiple: true, placeholder: 'KEY=VALUE', description: `only rows whose KEY contains VALUE (config: is VALUE); KEY one of ${containerFilterKeys.join(', ')}` },
    ...runtimeOptions,
  },
  async run({ app, out, args, options }) {
    if (args.length > 0) throw new SyscontainerError('EUSAGE', `containers list takes no arguments (got ${args[0]})`);
    const entries = await listContainers(app, { filters: stringList(options, 'filter') });
    out.jsonOr(options, entries, () => {
      if (options.quiet) {
        for (const e of entries) out.result(e.name);
        return;
      }
      const full = options['no-trunc'] === true;
      out.table(
        ['NAME', 'IMAGE', 'IMAGE ID', 'COMMAND', 'CREATED', 'STATE', 'HEALTH', 'CONFIG', 'BACKEND', 'RUNTIME'],
        entries.map((e) => [e.name, e.image, full ? e.imageId : shortId(e.imageId), !full && e.command.length > 30 ? `${e.command.slice(0, 29)}…` : e.command, formatAge(e.created), e.state, e.health ?? '-', e.config ?? '-', e.backend, e.runtime]),
      );
    });
  },
};

const exec: Command = {
  name: ['exec'],
  summary: 'run a command in a running container (runc exec)',
  usage: 'NAME CMD [ARG...]',
  options: runtimeOptions,
  rawAfter: 1,
  async run({ app, out, args, rest }) {
    const result = await execInContainer(app, { name: onlyArgument(args, 'exec'), command: rest });
    out.commandOutput(result.stdout, result.stderr);
    return result.exitCode;
  },
};

const logs: Command = {
  name: ['logs'],
  summary: "show a container's output (the unit's journal, or runc's log file without systemd)",
  usage: '[-f|--follow] [-n|--lines N] NAME',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new output until interrupted' },
    lines: { type: 'string', short: 'n', placeholder: 'N', description: 'only the last N lines' },
    ...runtimeOptions,
  },
  async run({ app, out, args, options }) {
    const name = onlyArgument(args, 'logs');
    const lines = typeof options.lines === 'string' ? Number.parseInt(options.lines, 10) : undefined;
    if (lines !== undefined && !(lines >= 0)) throw new SyscontainerError('EUSAGE', `--lines wants a number, not ${String(options.lines)}`);
    const tail = lines !== undefined ? { lines } : {};
    if (options.follow) {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      await followContainerLogs(app, { name, ...tail, write: (chunk) => out.stream(chunk), signal: stop.signal });
      return;
    }
    const text = await containerLogs(app, { name, ...tail });
    if (text) out.result(text.replace(/\n$/, ''));
  },
};

export const containerCommands: Command[] = [
  install,
  containers,
  update,
  rollback,
  uninstall,
  simple('start', 'start a container', startContainer),
  simple('stop', 'stop a container', stopContainer),
  simple('restart', 'restart a container', restartContainer),
  status,
  exec,
  logs,
];
