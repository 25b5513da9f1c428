// `syscontainer run`, like Atomic's: `run NAME CMD...` runs a command in an installed, running
// container, `run NAME` starts it; `run IMAGE [CMD...]` runs the image once with a temporary bundle (no unit, no
// host files) and removes it afterwards. The exit code is the command's.
import { run as runOperation, SyscontainerError } from '../../app/index.js';
import { setValues } from '../arguments.js';
import type { Command } from '../command.js';
import { confinedOption, privilegedOption, runtimeOptions, setOption } from './runtime-options.js';

export const run: Command = {
  name: ['run'],
  summary: 'run a command in an installed container (none: start it), or run an image once (temporary bundle, removed afterwards)',
  usage: '[--set KEY=VALUE]... [--privileged | --confined] [-i|--interactive] (NAME [CMD [ARG...]] | IMAGE [CMD [ARG...]])',
  options: {
    ...setOption,
    ...privilegedOption,
    ...confinedOption,
    interactive: { type: 'boolean', short: 'i', description: 'attach standard input to the command (its output is then not captured)' },
    ...runtimeOptions,
  },
  rawAfter: 1,
  async run({ app, out, args, options, rest }) {
    const [target, ...extra] = args;
    if (target === undefined) throw new SyscontainerError('EUSAGE', 'run needs a container NAME or an IMAGE');
    const result = await runOperation(
      app,
      {
        target,
        command: [...extra, ...rest],
        set: setValues(options),
        privileged: options.privileged === true,
        // An operator at the host's CLI, as for install: what the image's /exports declare is granted.
        privileges: 'declared',
        confined: options.confined === true,
        interactive: options.interactive === true,
      },
      { log: (line) => out.info(line) },
    );
    if (result.mode === 'started') {
      out.result(`${target}: running`);
      return 0;
    }
    out.commandOutput(result.stdout, result.stderr);
    return result.exitCode;
  },
};
