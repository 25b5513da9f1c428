// `npm run quickstart`: the whole story on one host, with no internet. Starts a local registry,
// builds and pushes the project's images as gscrivano/spc-etcd and gscrivano/hello, makes
// those short names resolve to it, then runs what a user would type:
//   syscontainer pull gscrivano/spc-etcd
//   syscontainer install --system --name etcd gscrivano/spc-etcd
//   runc exec etcd etcdctl put greeting hello
//   runc exec etcd etcdctl get greeting
// Safe to run again. `npm run quickstart -- --clean` undoes what it did.
import { mkdir, readlink, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { buildImage } from './build/image.js';
import { pushBuiltImage } from './build/push-image.js';
import { imageDefinitions, type ShippedImageName } from './catalog.js';
import { ensureLocalRegistry, stopLocalRegistry } from './local-registry.js';
import { defaultRegistriesConf } from '../store/registry/registries-conf.js';
import { RegistryPush } from '../store/registry/push.js';
import { isSyscontainerError } from '../common/errors.js';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliPath = join(projectDir, 'dist', 'syscontainer.mjs');

/** Where each shipped image goes in the local registry. */
const published: Record<ShippedImageName, string> = {
  etcd: 'gscrivano/spc-etcd',
  hello: 'gscrivano/hello',
};

interface Settings {
  stateDir: string;
  port: number;
  name: string;
  dropIn: string;
  binLink: string;
}

function settingsFrom(argv: string[]): Settings & { clean: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      clean: { type: 'boolean' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      name: { type: 'string' },
      'bin-link': { type: 'string' },
    },
  });
  const registriesConf = process.env.SYSCONTAINER_REGISTRIES_CONF ?? '/etc/containers/registries.conf';
  return {
    clean: values.clean === true,
    stateDir: resolve(values['state-dir'] ?? join(projectDir, '.state')),
    port: Number.parseInt(values.port ?? '5055', 10),
    name: values.name ?? 'etcd',
    dropIn: join(dirname(registriesConf), 'registries.conf.d', '50-syscontainer-quickstart.conf'),
    binLink: values['bin-link'] ?? '/usr/local/bin/syscontainer',
  };
}

/** Prints a command as the user would type it, runs it with the terminal attached, and returns its exit code. */
async function show(display: string, file: string, args: string[], allowFailure = false): Promise<number> {
  process.stdout.write(`\n$ ${display}\n`);
  const result = await execa(file, args, { stdio: 'inherit', reject: false });
  if (result.exitCode !== 0 && !allowFailure) throw new Error(`\`${display}\` failed (exit ${result.exitCode})`);
  return result.exitCode ?? 1;
}

const syscontainer = (args: string[], allowFailure = false) =>
  show(`syscontainer ${args.join(' ')}`, process.execPath, [cliPath, ...args], allowFailure);

async function quiet(args: string[]): Promise<{ exitCode: number; stdout: string }> {
  const result = await execa(process.execPath, [cliPath, ...args], { reject: false });
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout };
}

async function installed(name: string): Promise<boolean> {
  const result = await quiet(['containers', 'list', '--json']);
  return result.exitCode === 0 && (JSON.parse(result.stdout) as { name: string }[]).some((entry) => entry.name === name);
}

/** The `syscontainer` command on PATH, pointing at this build (only if the link is ours or absent). */
async function linkCommand(binLink: string): Promise<void> {
  const current = await readlink(binLink).catch(() => undefined);
  if (current === cliPath) return;
  if (current !== undefined) return void console.log(`note: ${binLink} already points at ${current}; left alone`);
  await chmod(cliPath, 0o755);
  await symlink(cliPath, binLink).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
    console.log(`note: ${binLink} exists and is not ours; left alone`);
  });
}

async function publishImages(host: string): Promise<void> {
  const registry = new RegistryPush({ registry: host, conf: defaultRegistriesConf() });
  for (const [name, repository] of Object.entries(published) as [ShippedImageName, string][]) {
    const built = await buildImage(await imageDefinitions[name]());
    const result = await pushBuiltImage(registry, repository, 'latest', built);
    console.log(`${host}/${repository}:latest  ${built.manifestDigest}  (${result.uploaded} blob(s) uploaded, ${result.present} already there)`);
  }
}

async function up(settings: Settings): Promise<void> {
  console.log('== local registry');
  const registry = await ensureLocalRegistry(settings.stateDir, settings.port);
  console.log(`docker-registry on ${registry.host} (pid ${registry.pid}, ${registry.started ? 'started' : 'already running'}); storage in ${settings.stateDir}/registry`);

  console.log('\n== images built from images/ and pushed');
  await publishImages(registry.host);

  console.log('\n== short names');
  await mkdir(dirname(settings.dropIn), { recursive: true });
  const aliases = Object.values(published).map((repository) => `"${repository}" = "${registry.host}/${repository}"`);
  await writeFile(settings.dropIn, `# Written by syscontainer's quickstart; removed by --clean.\n[aliases]\n${aliases.join('\n')}\n`);
  console.log(`${settings.dropIn}: ${Object.values(published).join(', ')} → ${registry.host}`);
  await linkCommand(settings.binLink);

  console.log('\n== the tour');
  await syscontainer(['pull', 'gscrivano/spc-etcd']);
  if (await installed(settings.name)) {
    console.log(`\n(${settings.name} is already installed: starting it if needed; \`npm run quickstart -- --clean\` starts over)`);
    await syscontainer(['start', settings.name]);
  } else {
    await syscontainer(['install', '--system', '--name', settings.name, 'gscrivano/spc-etcd']);
  }
  await waitForEtcd(settings.name);
  await show(`runc exec ${settings.name} etcdctl put greeting hello`, 'runc', ['exec', settings.name, 'etcdctl', 'put', 'greeting', 'hello']);
  await show(`runc exec ${settings.name} etcdctl get greeting`, 'runc', ['exec', settings.name, 'etcdctl', 'get', 'greeting']);
  await syscontainer(['containers', 'list']);
  console.log(`\nDone. Try: syscontainer status ${settings.name}; syscontainer logs ${settings.name}; syscontainer update ${settings.name}; syscontainer rollback ${settings.name}`);
}

/** etcd takes a moment to listen after its process starts. */
async function waitForEtcd(name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const probe = await execa('runc', ['exec', name, 'etcdctl', '--dial-timeout=1s', 'endpoint', 'health'], { reject: false });
    if (probe.exitCode === 0) return;
    if (Date.now() > deadline) throw new Error(`etcd in container ${name} did not become healthy: ${probe.stderr.split('\n').pop()}`);
    await new Promise((done) => setTimeout(done, 300));
  }
}

async function clean(settings: Settings): Promise<void> {
  if (await installed(settings.name)) await syscontainer(['uninstall', '--purge', settings.name]);
  for (const repository of Object.values(published)) {
    const image = `127.0.0.1:${settings.port}/${repository}:latest`;
    if ((await quiet(['images', 'info', image])).exitCode === 0) await syscontainer(['images', 'delete', image]);
  }
  await syscontainer(['images', 'prune']);
  if (await stopLocalRegistry(settings.stateDir)) console.log('stopped the local registry');
  await rm(settings.stateDir, { recursive: true, force: true });
  await rm(settings.dropIn, { force: true });
  if ((await readlink(settings.binLink).catch(() => undefined)) === cliPath) await rm(settings.binLink);
  console.log('quickstart undone');
}

const settings = settingsFrom(process.argv.slice(2));
try {
  await (settings.clean ? clean(settings) : up(settings));
} catch (error) {
  console.error(`quickstart: ${isSyscontainerError(error) || error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
