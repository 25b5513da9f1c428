#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point: parses argv, builds the application context, runs one command, prints errors
// as one line and sets the exit code. Nothing below cli/ reads argv, prints or exits.
// The small young generation (V8's default semi-space is 16 MiB) makes V8 collect the short-lived
// wrappers of a pull's stream buffers sooner, which frees their memory sooner: the pull of a
// 590 MiB image peaks at ~125 MiB instead of ~145 MiB, in the same time.
// Start-up: only argv parsing and `--version` are imported statically. The commands, the
// application layer and everything under it are in ./run-command.js, imported once a command
// is known to need them; the bundle (scripts/bundle.mjs) keeps that part out of what V8
// compiles at start (cli/deferred-code.ts).
import { parseArgs } from 'node:util';
import { globalOptions, parseArgsOptions } from './help.js';
import { version } from './version.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const first = parseArgs({ args: argv, options: parseArgsOptions(globalOptions), strict: false, allowPositionals: true });
  if (first.values.version) {
    process.stdout.write(`syscontainer ${version()}\n`);
    return 0;
  }
  const { runCommand } = await import('./run-command.js');
  return runCommand(argv, env, first);
}

// A reader that stops reading (`syscontainer containers list | head -1`) is not an error of the
// command: what it still prints goes nowhere, and the command runs to its end (an operation cut
// off half-way would be worse than output nobody reads).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await main(process.argv.slice(2), process.env);
