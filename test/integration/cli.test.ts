// The command line itself: help, version, usage errors and their exit codes.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';

test('--version prints the package version', async (t) => {
  const manifest = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = await runCli(['--version']);
  t.is(result.exitCode, 0);
  t.is(result.stdout.trim(), `syscontainer ${manifest.version}`);
});

test('--help lists every command; COMMAND --help its options', async (t) => {
  const help = await runCli(['--help']);
  t.is(help.exitCode, 0);
  for (const command of ['pull', 'push', 'images list', 'install', 'containers list', 'update', 'rollback', 'uninstall', 'exec', 'logs', 'login']) {
    t.regex(help.stdout, new RegExp(`^  ${command}\\s`, 'm'), command);
  }
  const install = await runCli(['install', '--help']);
  t.is(install.exitCode, 0);
  t.regex(install.stdout, /--set VALUE \(repeatable\)/);
});

test('usage errors: one line, exit status 2', async (t) => {
  for (const args of [['frobnicate'], ['pull'], ['pull', '--no-such-option', 'x'], ['install'], ['install', '--privileged', '--confined', 'image'], ['images', 'tag', 'one-name']]) {
    const result = await runCli(args);
    t.is(result.exitCode, 2, args.join(' '));
    t.is(result.stderr.split('\n').filter((line) => line.startsWith('error:')).length, 1, result.stderr);
    t.is(result.stdout, '');
  }
});

test('`images` alone lists images, as `images list` does', async (t) => {
  const root = await tempDir(t);
  const result = await runCli(['--root', root, 'images']);
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
});

test('a reader that closes the pipe early (`| head -1`) ends the command quietly, exit status 0', async (t) => {
  const root = await tempDir(t);
  for (const args of [['--help'], ['--root', root, 'containers', 'list']]) {
    // The reader is gone before the CLI writes a byte: its first write meets EPIPE.
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    t.is(code, 0, `${args.join(' ')}: ${stderr}`);
    t.notRegex(stderr, /EPIPE/, args.join(' '));
  }
});
