// The quickstart as a newcomer runs it — the real script, the real registry, ostree and runc —
// kept away from the host's own paths: its own state dir, port, root, unit and config dirs.
import test from 'ava';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/cli.js';

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

test('quickstart: pull, install, etcdctl put/get; runs again; --clean undoes it', async (t) => {
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
  t.deepEqual((await readdir(join(dir, 'root'))).filter((entry) => entry !== '.storage'), [], 'no deployment left');
  t.false(existsSync(`/var/lib/${name}`), 'state directory purged');
});
