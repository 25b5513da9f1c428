// `COMMAND --help` describes every option of every command in one line.
import test from 'ava';
import { commands } from '../../cli/commands/index.js';
import { commandUsage } from '../../cli/help.js';

for (const command of commands) {
  const name = command.name.join(' ');
  test(`${name} --help describes each of its options`, (t) => {
    const help = commandUsage(command).split('\n');
    for (const [option, spec] of Object.entries(command.options ?? {})) {
      const line = help.find((text) => new RegExp(`^\\s+(-\\w, )?--${option}\\b`).test(text));
      t.truthy(line, `--${option} is listed`);
      t.true(spec.description.trim().length > 0 && line!.trimEnd().endsWith(spec.description), `--${option} has its description on its line`);
    }
    t.true(help.some((text) => /^\s+--root DIR\s+\S/.test(text)), 'the global options are listed too');
  });
}
