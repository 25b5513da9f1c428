// The CLI as a user drives it, for what Atomic users expect: `run IMAGE [CMD]` (one-off run,
// nothing left), `run NAME CMD` (exec in an installed container), and the labels Atomic images
// carry: atomic.type=system (install without --system) and atomic.run=once (run, not install).
// Real ostree store (pulled from an OCI layout), real runc. Needs root, runc and /bin/busybox.
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { buildImage, type ContainerConfig } from '../../images/build/image.js';
import { readHostFile } from '../../images/build/host-files.js';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import { fromHostFile, rootfsEntries } from '../../images/build/rootfs-entries.js';
import { runCli } from '../helpers/cli.js';
import { testBaseDir } from '../helpers/systemd-harness.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.runc, needs.busybox);

const applets = ['sh', 'cat', 'echo', 'sleep', 'true'];

async function busyboxImage(config: ContainerConfig) {
  const busybox = await readHostFile('/bin/busybox', '/bin/busybox', "install Debian's busybox-static");
  return buildImage({
    config,
    layers: [
      {
        compression: 'none',
        entries: rootfsEntries([
          fromHostFile(busybox, 0o755),
          ...applets.map((a) => ({ type: 'symlink' as const, path: `/bin/${a}`, target: 'busybox' })),
          ...['/etc', '/tmp', '/proc', '/sys', '/dev', '/run', '/var/lib'].map((p) => ({ type: 'dir' as const, path: p, mode: 0o755 })),
          { type: 'file' as const, path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
        ]),
      },
    ],
  });
}

const loop = (marker: string) => ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`];

let seq = 0;
/** A test directory with the given images pulled into its store as localhost/LAYOUT:v1; CLI env. */
async function setup(t: ExecutionContext, images: Record<string, ContainerConfig>) {
  const n = ++seq;
  const dir = await testBaseDir(`run-command-${process.pid}-${n}`);
  const env = {
    SYSCONTAINER_ROOT: join(dir, 'root'),
    SYSCONTAINER_UNIT_DIR: join(dir, 'units'),
    SYSCONTAINER_TMPFILES_DIR: join(dir, 'tmpfiles.d'),
  };
  const names: string[] = [];
  t.teardown(async () => {
    for (const name of names) await runCli(['uninstall', '--purge', name], env);
    execFileSync('rm', ['-rf', dir]);
  });
  for (const [label, config] of Object.entries(images)) {
    const layout = join(dir, label);
    await writeOciLayout(layout, [{ image: await busyboxImage(config), tag: 'v1' }]);
    const pulled = await runCli(['pull', `oci:${layout}:v1`], env);
    t.is(pulled.exitCode, 0, pulled.stderr);
  }
  return { dir, env, name: (suffix: string) => { const name = `rc${process.pid}x${n}${suffix}`; names.push(name); return name; } };
}


test('run IMAGE [CMD] runs the image once and leaves nothing; the exit code is the command\'s', async (t) => {
  const s = await setup(t, { plain: { Cmd: ['/bin/sh', '-c', 'echo image-default-command'] } });
  const own = await runCli(['run', 'localhost/plain:v1'], s.env);
  t.is(own.exitCode, 0, own.stderr);
  t.regex(own.stdout, /image-default-command/);
  const other = await runCli(['run', 'localhost/plain:v1', 'sh', '-c', 'echo replaced; exit 7'], s.env);
  t.is(other.exitCode, 7, other.stderr);
  t.regex(other.stdout, /^replaced$/m);
  t.notRegex(other.stdout, /image-default-command/);
  t.deepEqual((await readdir(s.env.SYSCONTAINER_ROOT)).filter((e) => e !== '.storage'), [], 'no deployment, no bundle left');
  const unknown = await runCli(['run', 'localhost/nothing:v1', 'true'], s.env);
  t.is(unknown.exitCode, 1);
  t.regex(unknown.stderr, /localhost\/nothing:v1 is neither an installed container nor an image in the store/);
});

test('atomic.type=system installs without --system; run NAME CMD execs in it, run NAME starts it; an unlabelled image needs --system', async (t) => {
  const s = await setup(t, {
    labelled: { Cmd: loop('labelled-service'), Labels: { 'atomic.type': 'system' } },
    unlabelled: { Cmd: loop('unlabelled-service') },
  });
  const refused = await runCli(['install', '--name', s.name('u'), 'localhost/unlabelled:v1'], s.env);
  t.is(refused.exitCode, 2, refused.stderr);
  t.regex(refused.stderr, /image localhost\/unlabelled:v1 is not labelled atomic\.type=system: install it with --system/);

  const name = s.name('l');
  const installed = await runCli(['install', '--name', name, 'localhost/labelled:v1'], s.env);
  t.is(installed.exitCode, 0, installed.stderr);
  const inside = await runCli(['run', name, 'cat', '/proc/1/cmdline'], s.env);
  t.is(inside.exitCode, 0, inside.stderr);
  t.regex(inside.stdout, /labelled-service/);
  // Atomic's `run NAME` without a command starts the container: here it runs already, so nothing to do.
  const again = await runCli(['run', name], s.env);
  t.is(again.exitCode, 0, again.stderr);
  t.is(again.stdout, `${name}: running`);
});

test('atomic.run=once: install runs the image once instead of installing a service', async (t) => {
  const s = await setup(t, { once: { Cmd: ['/bin/sh', '-c', 'echo did-the-job-once; exit 3'], Labels: { 'atomic.type': 'system', 'atomic.run': 'once' } } });
  const name = s.name('o');
  const result = await runCli(['install', '--name', name, 'localhost/once:v1'], s.env);
  t.is(result.exitCode, 3, result.stderr);
  t.regex(result.stdout, /did-the-job-once/);
  t.regex(result.stderr, /labelled atomic\.run=once: running it once/);
  t.deepEqual((await readdir(s.env.SYSCONTAINER_ROOT)).filter((e) => e !== '.storage'), [], 'nothing installed');
  t.deepEqual(await readdir(s.env.SYSCONTAINER_UNIT_DIR).catch(() => []), []);
});

test('install --system from oci:DIR:TAG not yet pulled: pulled, stored under its localhost/ name, installed', async (t) => {
  const s = await setup(t, {});
  const layout = join(s.dir, 'fresh');
  await writeOciLayout(layout, [{ image: await busyboxImage({ Cmd: loop('from-layout') }), tag: 'v1' }]);
  const name = s.name('oci');
  const installed = await runCli(['install', '--system', '--name', name, `oci:${layout}:v1`], s.env);
  t.is(installed.exitCode, 0, installed.stderr);
  const listed = await runCli(['containers', 'list', '--json'], s.env);
  t.is(listed.exitCode, 0, listed.stderr);
  const row = (JSON.parse(listed.stdout) as Array<{ name: string; image: string }>).find((c) => c.name === name);
  t.is(row?.image, 'localhost/fresh:v1');
  const exec = await runCli(['run', name, 'echo', 'inside'], s.env);
  t.is(exec.exitCode, 0, exec.stderr);
  t.regex(exec.stdout, /^inside$/m);
});


test('without systemd the container outlives the CLI that started it, and its exit is recorded for status', async (t) => {
  const s = await setup(t, {
    svc: { Cmd: ['/bin/sh', '-c', 'echo serving; while [ ! -e /tmp/done ]; do sleep 0.2; done; echo done; exit 5'] },
    once: { Cmd: ['/bin/sh', '-c', 'echo ran-once'] },
  });
  const name = s.name('m');
  const installed = await runCli(['install', '--system', '--name', name, 'localhost/svc:v1'], s.env);
  t.is(installed.exitCode, 0, installed.stderr);
  // The CLI has exited (its output pipes closed: the monitor holds none of them); the container runs.
  t.regex((await runCli(['status', name], s.env)).stdout, /^State:\s+running \(pid \d+\)$/m);
  t.is((await runCli(['run', name, 'sh', '-c', ': > /tmp/done'], s.env)).exitCode, 0);
  let status = '';
  for (let i = 0; i < 50 && !/Last exit/.test(status); i++) status = (await runCli(['status', name], s.env)).stdout;
  t.regex(status, /^State:\s+failed$/m);
  t.regex(status, /^Last exit:\s+status 5 \(exit-code\) at \d{4}-/m);
  t.regex((await runCli(['logs', name], s.env)).stdout, /serving\n[\s\S]*done/);

  // busybox sh's way: a command that exits 0 at once installs (issue 16), status says so.
  const once = s.name('o');
  const result = await runCli(['install', '--system', '--name', once, 'localhost/once:v1'], s.env);
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stderr, new RegExp(`${once} exited \\(status 0\\) right after it started; it stays installed`));
  const json = JSON.parse((await runCli(['status', '--json', once], s.env)).stdout) as { state: string; lastExit?: { exitCode: number } };
  t.is(json.state, 'exited');
  t.is(json.lastExit?.exitCode, 0);
});
