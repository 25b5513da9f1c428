// `syscontainer run`, like Atomic's: `run NAME CMD...` runs a command in an installed, running
// container; `run IMAGE [CMD...]` runs the image once with a temporary bundle (no unit, no
// host files) and removes it afterwards. The exit code is the command's.
import { parseSetArguments, run as runTarget } from '../../runtime/index.js';
import { SyscontainerError } from '../../common/errors.js';
import type { Command, CommandContext } from '../command.js';
import { runtimeContext, runtimeOptions } from '../runtime-context.js';

function setValues(options: CommandContext['options']): Record<string, string> {
  const raw = options.set;
  const list = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? [raw] : [];
  return parseSetArguments(list);
}

export const run: Command = {
  name: ['run'],
  summary: 'run a command in an installed container, or run an image once (temporary bundle, removed afterwards)',
  usage: '[--set KEY=VALUE]... [--privileged] [-i|--interactive] (NAME CMD [ARG...] | IMAGE [CMD [ARG...]])',
  options: {
    ...runtimeOptions,
    set: { type: 'string', multiple: true },
    privileged: { type: 'boolean' },
    interactive: { type: 'boolean', short: 'i' },
  },
  rawAfter: 1,
  async run({ settings, out, args, options, rest }) {
    const [target, ...extra] = args;
    if (target === undefined) throw new SyscontainerError('EUSAGE', 'run needs a container NAME or an IMAGE');
    const command = [...extra, ...rest];
    const { ctx } = runtimeContext(settings, options, out);
    const interactive = options.interactive === true;
    const result = await runTarget(ctx, { target, command, set: setValues(options), allowPrivileges: options.privileged === true, interactive });
    if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
    if (result.stderr) process.stderr.write(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
    return result.exitCode;
  },
};
