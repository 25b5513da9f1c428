// The command line itself: help, version, usage errors and their exit codes.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeploymentStore, type DeploymentInfo } from '../../runtime/deployment.js';
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

test('a deployment record that is not one of ours reads as not installed: status says so in one line, containers list leaves it out', async (t) => {
  const root = await tempDir(t);
  const store = new DeploymentStore(root);
  const record = (name: string): DeploymentInfo => ({
    version: 1, name, image: 'registry.example/web:1', imageId: `sha256:${'a'.repeat(64)}`, manifestDigest: `sha256:${'b'.repeat(64)}`,
    set: {}, values: {}, created: '2026-01-01T00:00:00.000Z', runtime: '/usr/sbin/runc', revision: 1, privileged: false, privileges: [],
    source: 'image-config', command: ['/bin/web'], stateDirectory: `/var/lib/${name}`, hasTmpfiles: false, exposedPorts: [],
  });
  const good = `good-${process.pid}`;
  await store.writeInfo(await store.prepareSlot(good, 0), record(good));
  await store.activate(good, 0);
  // Each bad one is JSON, and wrong in one field: a type, a field missing, a nested option out of its range.
  const bad: Record<string, unknown> = {
    [`revision-${process.pid}`]: { revision: '1' },
    [`runtime-${process.pid}`]: { runtime: undefined },
    [`restart-${process.pid}`]: { service: { restart: 'sometimes' } },
  };
  for (const [name, change] of Object.entries(bad)) {
    const dir = await store.prepareSlot(name, 0);
    await writeFile(join(dir, 'info'), JSON.stringify({ ...record(name), ...(change as object) }));
    await store.activate(name, 0);
  }
  t.is((await runCli(['--root', root, 'status', good])).exitCode, 0);
  for (const name of Object.keys(bad)) {
    const status = await runCli(['--root', root, 'status', name]);
    t.is(status.exitCode, 1, name);
    t.is(status.stderr.trim(), `error: container ${name} is not installed`);
    t.is(status.stdout, '');
  }
  const list = await runCli(['--root', root, 'containers', 'list', '-q']);
  t.is(list.exitCode, 0, list.stderr);
  t.deepEqual(list.stdout.split('\n'), [good]);
});
