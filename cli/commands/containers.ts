// The lifecycle of installed system containers: install, update, rollback, uninstall,
// start/stop/restart/status, exec, logs, and the listing.
import { followLogs, install as installContainer, list, logs as containerLogs, exec as containerExec, parseSetArguments, rollback as rollbackContainer, restart as restartContainer, start as startContainer, status as containerStatus, stop as stopContainer, uninstall as uninstallContainer, update as updateContainer, type DeploymentResult, isSystemImage, runImageOnce, runsOnce } from '../../runtime/index.js';
import { pullImage } from '../../store/index.js';
import { SyscontainerError } from '../../common/errors.js';
import type { Command, CommandContext } from '../command.js';
import { formatAge, shortId } from '../format.js';
import { runtimeContext, runtimeOptions } from '../runtime-context.js';

function oneName(args: string[], command: string): string {
  const [name, ...extra] = args;
  if (name === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', `${command} takes exactly one NAME`);
  return name;
}

function setValues(options: CommandContext['options']): Record<string, string> {
  const raw = options.set;
  const list = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? [raw] : [];
  return parseSetArguments(list);
}

/** The runtime already says what it did (through ctx.log); the privileges granted are shown too. */
function reportDeployment(context: CommandContext, result: DeploymentResult): void {
  for (const line of result.privileges) context.out.info(`privilege granted: ${line}`);
}

const install: Command = {
  name: ['install'],
  summary: 'install an image as a system container: checkout, config.json, systemd unit, host files; enable and start',
  usage: '[--system] --name NAME [--set KEY=VALUE]... [--rootfs PATH] [--runtime PATH] [--unit-dir DIR] [--no-start] [--force] [--privileged] IMAGE',
  options: {
    ...runtimeOptions,
    system: { type: 'boolean' },
    name: { type: 'string', short: 'n' },
    set: { type: 'string', multiple: true },
    'no-start': { type: 'boolean' },
    force: { type: 'boolean' },
    privileged: { type: 'boolean' },
    'no-pull': { type: 'boolean' },
    rootfs: { type: 'string' },
  },
  async run(context) {
    const { settings, out, args, options } = context;
    const [image, ...extra] = args;
    if (image === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'install takes exactly one IMAGE');
    const name = typeof options.name === 'string' ? options.name : undefined;
    if (!name) throw new SyscontainerError('EUSAGE', 'install needs --name NAME');
    const rootfs = typeof options.rootfs === 'string' ? options.rootfs : undefined;
    const set = setValues(options);
    const { store, ctx } = runtimeContext(settings, options, out);
    // With --rootfs the image may be known only by name: nothing to pull.
    let stored = await ctx.store.getImage(image);
    if (stored === undefined && rootfs === undefined && !options['no-pull']) {
      out.info(`${image} is not in the store: pulling it`);
      await pullImage(store, image, settings);
      stored = await ctx.store.getImage(image);
    }
    if (options.system !== true && (stored === undefined || !isSystemImage(stored))) {
      throw new SyscontainerError('EUSAGE', `image ${stored?.name ?? image} is not labelled atomic.type=system: install it with --system`);
    }
    if (stored !== undefined && rootfs === undefined && runsOnce(stored)) {
      // atomic.run=once: the image does its job and exits; nothing is installed.
      out.info(`${stored.name} is labelled atomic.run=once: running it once instead of installing a service`);
      const result = await runImageOnce(ctx, stored, { name, set, allowPrivileges: options.privileged === true });
      if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
      if (result.stderr) process.stderr.write(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
      return result.exitCode;
    }
    const result = await installContainer(ctx, {
      name,
      image: stored?.name ?? image,
      set,
      force: options.force === true,
      allowPrivileges: options.privileged === true,
      start: options['no-start'] !== true,
      ...(rootfs !== undefined ? { rootfs } : {}),
    });
    reportDeployment(context, result);
  },
};

const update: Command = {
  name: ['update'],
  summary: 'pull the newer image and redeploy into the other slot; rolls back if it fails to start',
  usage: '(NAME | --all) [--set KEY=VALUE]... [--rebase IMAGE] [--no-pull] [--force] [--privileged]',
  options: {
    ...runtimeOptions,
    all: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    rebase: { type: 'string' },
    'no-pull': { type: 'boolean' },
    force: { type: 'boolean' },
    privileged: { type: 'boolean' },
  },
  async run(context) {
    const { settings, out, args, options } = context;
    const { store, ctx } = runtimeContext(settings, options, out);
    const names = options.all ? (await list(ctx)).map((entry) => entry.name) : [oneName(args, 'update')];
    if (options.all && args.length > 0) throw new SyscontainerError('EUSAGE', 'update --all takes no NAME');
    if (options.all && options.rebase) throw new SyscontainerError('EUSAGE', 'update --all cannot --rebase');
    const summary: string[] = [];
    let failures = 0;
    for (const name of names) {
      try {
        const current = (await list(ctx)).find((entry) => entry.name === name);
        const image = typeof options.rebase === 'string' ? options.rebase : current?.image;
        if (image && !options['no-pull']) await pullImage(store, image, settings);
        const rebase = typeof options.rebase === 'string' ? ((await store.getImage(options.rebase))?.name ?? options.rebase) : undefined;
        const result = await updateContainer(ctx, {
          name,
          set: setValues(options),
          ...(rebase !== undefined ? { rebase } : {}),
          ...(options.privileged ? { allowPrivileges: true } : {}),
          force: options.force === true,
        });
        reportDeployment(context, result);
        summary.push(`${name}: ${result.changed ? `updated to revision ${result.info.revision}` : 'up to date'}`);
      } catch (error) {
        if (!options.all) throw error;
        failures++;
        out.error(error, settings.debug);
        summary.push(`${name}: failed (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    if (options.all) {
      out.result(`update --all: ${names.length - failures} of ${names.length} succeeded`);
      for (const line of summary) out.result(`  ${line}`);
    }
    return failures > 0 ? 1 : 0;
  },
};

const rollback: Command = {
  name: ['rollback'],
  summary: 'switch back to the previous deployment, unit and all',
  usage: 'NAME',
  options: runtimeOptions,
  async run(context) {
    const { ctx } = runtimeContext(context.settings, context.options, context.out);
    const result = await rollbackContainer(ctx, { name: oneName(context.args, 'rollback') });
    reportDeployment(context, result);
  },
};

const uninstall: Command = {
  name: ['uninstall'],
  summary: 'stop and remove a container: unit, tmpfiles, deployments (--purge: its state too)',
  usage: '[--purge] NAME',
  options: { ...runtimeOptions, purge: { type: 'boolean' } },
  async run({ settings, out, args, options }) {
    const { ctx } = runtimeContext(settings, options, out);
    const name = oneName(args, 'uninstall');
    await uninstallContainer(ctx, { name, purge: options.purge === true });
  },
};

function simple(verb: 'start' | 'stop' | 'restart', summary: string, run: typeof startContainer): Command {
  return {
    name: [verb],
    summary,
    usage: 'NAME',
    options: runtimeOptions,
    async run({ settings, out, args, options }) {
      const { ctx } = runtimeContext(settings, options, out);
      const name = oneName(args, verb);
      await run(ctx, { name });
      out.result(`${name}: ${verb === 'stop' ? 'stopped' : 'running'}`);
    },
  };
}

const status: Command = {
  name: ['status'],
  summary: 'show the state of a container (and systemd status when systemd runs it)',
  usage: '[--json] NAME',
  options: { ...runtimeOptions, json: { type: 'boolean' } },
  async run({ settings, out, args, options }) {
    const { ctx } = runtimeContext(settings, options, out);
    const result = await containerStatus(ctx, { name: oneName(args, 'status') });
    if (options.json) return out.json(result);
    out.result(`Name:       ${result.name}`);
    out.result(`Image:      ${result.image} (${shortId(result.imageId)})`);
    out.result(`State:      ${result.state}${result.pid ? ` (pid ${result.pid})` : ''}`);
    out.result(`Managed by: ${result.managedBy}${result.enabled === undefined ? '' : result.enabled ? ', enabled' : ', disabled'}`);
    out.result(`Runtime:    ${result.runtime}`);
    out.result(`Deployment: ${result.deployment} (revision ${result.revision})`);
    if (result.details) out.result(`\n${result.details}`);
  },
};

const containers: Command = {
  name: ['containers', 'list'],
  summary: 'list installed system containers',
  usage: '[--json]',
  options: { ...runtimeOptions, json: { type: 'boolean' } },
  async run({ settings, out, options }) {
    const { ctx } = runtimeContext(settings, options, out);
    const entries = await list(ctx);
    if (options.json) return out.json(entries);
    out.table(
      ['NAME', 'IMAGE', 'IMAGE ID', 'COMMAND', 'CREATED', 'STATE', 'RUNTIME'],
      entries.map((e) => [e.name, e.image, shortId(e.imageId), e.command.length > 30 ? `${e.command.slice(0, 29)}…` : e.command, formatAge(e.created), e.state, e.runtime]),
    );
  },
};

const exec: Command = {
  name: ['exec'],
  summary: 'run a command in a running container (runc exec)',
  usage: 'NAME CMD [ARG...]',
  options: runtimeOptions,
  rawAfter: 1,
  async run({ settings, out, args, options, rest }) {
    const { ctx } = runtimeContext(settings, options, out);
    const result = await containerExec(ctx, { name: oneName(args, 'exec'), command: rest });
    if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
    if (result.stderr) process.stderr.write(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
    return result.exitCode;
  },
};

const logs: Command = {
  name: ['logs'],
  summary: "show a container's output (the unit's journal, or runc's log file without systemd)",
  usage: '[-f|--follow] [-n|--lines N] NAME',
  options: { ...runtimeOptions, follow: { type: 'boolean', short: 'f' }, lines: { type: 'string', short: 'n' } },
  async run({ settings, out, args, options }) {
    const { ctx } = runtimeContext(settings, options, out);
    const name = oneName(args, 'logs');
    const lines = typeof options.lines === 'string' ? Number.parseInt(options.lines, 10) : undefined;
    if (lines !== undefined && !(lines >= 0)) throw new SyscontainerError('EUSAGE', `--lines wants a number, not ${String(options.lines)}`);
    if (options.follow) {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      await followLogs(ctx, { name, ...(lines !== undefined ? { lines } : {}), write: (chunk) => process.stdout.write(chunk), signal: stop.signal });
      return;
    }
    const text = await containerLogs(ctx, { name, ...(lines !== undefined ? { lines } : {}) });
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
