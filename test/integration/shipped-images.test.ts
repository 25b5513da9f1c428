// The project's own images (images/) and the quickstart as a newcomer runs it — the real
// script, registry, ostree and runc — kept away from the host's own paths: own state dir,
// port, root, unit and config dirs. Serial: etcd listens on fixed ports.
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { buildImage } from '../../images/build/image.js';
import { pushBuiltImage } from '../../images/build/push-image.js';
import { imageDefinitions } from '../../images/catalog.js';
import { helloPage, helloPort } from '../../images/hello/definition.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startRegistry } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry, needs.runc);

const quickstart = fileURLToPath(new URL('../../images/quickstart.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

test.serial('quickstart: pull, install, etcdctl put/get; runs again; --clean undoes it', async (t) => {
  const dir = await tempDir(t, 'syscontainer-quickstart-');
  const name = 'quickstart-etcd';
  const port = await freePort();
  const args = ['--state-dir', join(dir, 'state'), '--port', String(port), '--name', name, '--bin-link', join(dir, 'syscontainer')];
  const env = {
    SYSCONTAINER_ROOT: join(dir, 'root'),
    SYSCONTAINER_UNIT_DIR: join(dir, 'units'),
    SYSCONTAINER_TMPFILES_DIR: join(dir, 'tmpfiles.d'),
    SYSCONTAINER_REGISTRIES_CONF: join(dir, 'containers', 'registries.conf'),
  };
  const run = (extra: string[] = []) => execa(process.execPath, [quickstart, ...args, ...extra], { env, reject: false, all: true });
  t.teardown(async () => {
    await run(['--clean']);
  });

  const first = await run();
  t.is(first.exitCode, 0, first.all);
  t.true(first.all!.includes('$ syscontainer pull gscrivano/spc-etcd'), first.all);
  t.true(first.all!.includes(`$ syscontainer install --system --name ${name} gscrivano/spc-etcd`));
  t.regex(first.all!, new RegExp(`\\$ runc exec ${name} etcdctl put greeting hello\\nOK\\n`));
  t.regex(first.all!, new RegExp(`\\$ runc exec ${name} etcdctl get greeting\\ngreeting\\nhello\\n`));
  const state = await execa('runc', ['state', name]);
  t.is(JSON.parse(state.stdout).status, 'running');

  const again = await run();
  t.is(again.exitCode, 0, again.all);
  t.regex(again.all!, /already running/);
  t.regex(again.all!, /already installed/);
  t.regex(again.all!, /greeting\nhello\n/, 'data kept across runs');

  const clean = await run(['--clean']);
  t.is(clean.exitCode, 0, clean.all);
  t.is((await execa('runc', ['state', name], { reject: false })).exitCode, 1, 'container gone');
  t.false(existsSync(join(dir, 'state')), 'state dir removed');
  t.false(existsSync(join(dir, 'syscontainer')), 'command link removed');
  t.deepEqual(await readdir(join(dir, 'containers', 'registries.conf.d')), [], 'short-name drop-in removed');
  t.deepEqual(await readdir(join(dir, 'units')).catch(() => []), [], 'no unit left');
  // The image store and the host's event journal (ROOT/.service/events.jsonl, written by every
  // command, as podman's events log is) are the host's, not the container's: they stay.
  t.deepEqual((await readdir(join(dir, 'root'))).filter((entry) => entry !== '.storage' && entry !== '.service'), [], 'no deployment left');
  t.deepEqual((await readdir(join(dir, 'root', '.service'))).filter((file) => !file.startsWith('events.jsonl')), [], 'only the event journal in .service');
  t.false(existsSync(`/var/lib/${name}`), 'state directory purged');
});

/** Environment that keeps the CLI's root, units and tmpfiles inside `dir`. */
function isolated(dir: string): Record<string, string> {
  return {
    SYSCONTAINER_ROOT: join(dir, 'root'),
    SYSCONTAINER_UNIT_DIR: join(dir, 'units'),
    SYSCONTAINER_TMPFILES_DIR: join(dir, 'tmpfiles.d'),
  };
}

async function pushShipped(t: ExecutionContext) {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const push = new RegistryPush({ registry: registry.host, conf: defaultRegistriesConf() });
  const built = {
    etcd: await buildImage(await imageDefinitions.etcd()),
    hello: await buildImage(await imageDefinitions.hello()),
  };
  await pushBuiltImage(push, 'gscrivano/spc-etcd', 'latest', built.etcd);
  await pushBuiltImage(push, 'gscrivano/hello', 'latest', built.hello);
  return { registry, built };
}

test.serial('every shipped image round-trips through a real registry with identical digests', async (t) => {
  const dir = await tempDir(t);
  const { registry, built } = await pushShipped(t);
  for (const [repository, image] of [['gscrivano/spc-etcd', built.etcd], ['gscrivano/hello', built.hello]] as const) {
    const pulled = await runCli(['pull', `${registry.host}/${repository}`], isolated(dir));
    t.is(pulled.exitCode, 0, pulled.stderr);
    t.is(pulled.stdout.trim(), image.manifestDigest, repository);
    const again = await buildImage(await imageDefinitions[repository === 'gscrivano/hello' ? 'hello' : 'etcd']());
    t.is(again.manifestDigest, image.manifestDigest, `${repository} builds reproducibly`);
  }
});

test.serial('etcd keeps its data across update and rollback', async (t) => {
  const dir = await tempDir(t);
  const { registry } = await pushShipped(t);
  const env = isolated(dir);
  const name = 'etcd-lifecycle';
  const etcdctl = async (...args: string[]) => (await execa('runc', ['exec', name, 'etcdctl', '--dial-timeout=2s', ...args], { reject: false })).stdout;
  t.teardown(async () => {
    await runCli(['uninstall', '--purge', name], env);
  });
  const installed = await runCli(['install', '--system', '--name', name, `${registry.host}/gscrivano/spc-etcd`], env);
  t.is(installed.exitCode, 0, installed.stderr);
  for (let tries = 0; tries < 40 && (await etcdctl('put', 'greeting', 'hello')) !== 'OK'; tries++) await new Promise((r) => setTimeout(r, 250));
  t.is(await etcdctl('get', '--print-value-only', 'greeting'), 'hello');

  const updated = await runCli(['update', '--force', name], env);
  t.is(updated.exitCode, 0, updated.stderr);
  t.true(existsSync(join(dir, 'root', `${name}.1`, 'rootfs')), 'update deployed into the other slot');
  for (let tries = 0; tries < 40 && (await etcdctl('get', '--print-value-only', 'greeting')) !== 'hello'; tries++) await new Promise((r) => setTimeout(r, 250));
  t.is(await etcdctl('get', '--print-value-only', 'greeting'), 'hello', 'data kept across update');

  const rolled = await runCli(['rollback', name], env);
  t.is(rolled.exitCode, 0, rolled.stderr);
  for (let tries = 0; tries < 40 && (await etcdctl('get', '--print-value-only', 'greeting')) !== 'hello'; tries++) await new Promise((r) => setTimeout(r, 250));
  t.is(await etcdctl('get', '--print-value-only', 'greeting'), 'hello', 'data kept across rollback');

  const removed = await runCli(['uninstall', '--purge', name], env);
  t.is(removed.exitCode, 0, removed.stderr);
  t.false(existsSync(`/var/lib/${name}`), 'state purged');
});

test.serial('hello, an image with no /exports, runs from its image config through our templates', async (t) => {
  const dir = await tempDir(t);
  const { registry } = await pushShipped(t);
  const env = isolated(dir);
  const name = 'hello-test';
  t.teardown(async () => {
    await runCli(['uninstall', '--purge', name], env);
  });
  const installed = await runCli(['install', '--system', '--name', name, `${registry.host}/gscrivano/hello`], env);
  t.is(installed.exitCode, 0, installed.stderr);
  t.regex(installed.stderr, /systemd is not running here: .*hello-test\.service is written but not enabled; runc runs hello-test directly/, 'says plainly that systemd is absent');
  const page = await new Promise<string>((resolve, reject) => {
    http.get(`http://127.0.0.1:${helloPort}/`, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
  t.is(page, helloPage);
  const config = JSON.parse(await execa('cat', [join(dir, 'root', name, 'config.json')]).then((r) => r.stdout));
  t.true(config.root.readonly, 'read-only rootfs');
  t.deepEqual(config.process.args.slice(0, 2), ['/bin/busybox', 'httpd'], 'Entrypoint + Cmd from the image config');
  t.true(config.process.env.includes(`HELLO_PORT=${helloPort}`), 'Env from the image config');
  t.is(config.process.cwd, '/www', 'WorkingDir from the image config');
  t.true(config.process.noNewPrivileges);
  t.false((config.linux.namespaces as { type: string }[]).some((ns) => ns.type === 'network'), 'host network');
});
