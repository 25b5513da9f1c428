// Shared pieces of the apply tests: a busybox image with the applets pods need (httpd, wget,
// nc), pushed to the real registry; the CLI run against the systemd harness (systemctl and runc
// through nsenter, as SYSCONTAINER_SYSTEMD_NSENTER_PID says); and what a user looks at after an
// apply: units' start times, what runs.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildImage } from '../../images/build/image.js';
import { readHostBinary } from '../../images/build/host-files.js';
import { fromHostFile, rootfsEntries } from '../../images/build/rootfs-entries.js';
import { cli, isolatedEnv, pushImage } from './fault-kit.js';
import type { CliResult } from './cli.js';
import type { SystemdHarness } from './systemd-harness.js';

const applets = ['sh', 'sleep', 'cat', 'echo', 'ls', 'httpd', 'wget', 'nc', 'test', 'mkdir', 'true', 'false', 'touch', 'hostname'];

/** Pushes a busybox image (no command of its own: pods give it) as REPOSITORY:TAG; /etc/image-tag holds `marker` (default the tag). */
export async function pushPodImage(registryHost: string, repository: string, tag: string, marker = tag): Promise<string> {
  const files = await readHostBinary('/bin/busybox', 'install the Debian package busybox-static (scripts/setup-host.sh does)');
  const busybox = fromHostFile(files[0]!, 0o755);
  const built = await buildImage({
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh', '-c', `echo ${marker}; trap 'exit 0' TERM; while true; do sleep 1; done`] },
    layers: [
      {
        entries: rootfsEntries([
          { ...busybox, path: '/bin/busybox' },
          ...applets.map((applet) => ({ type: 'symlink' as const, path: `/bin/${applet}`, target: 'busybox' })),
          { type: 'file', path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/:/bin/sh\n', mode: 0o644 },
          { type: 'file', path: '/etc/group', content: 'root:x:0:\nwww:x:33:\n', mode: 0o644 },
          { type: 'file', path: '/etc/image-tag', content: `${marker}\n`, mode: 0o644 },
          { type: 'dir', path: '/tmp', mode: 0o1777 },
        ]),
      },
    ],
  });
  return pushImage(registryHost, repository, tag, built);
}

/** The CLI's environment for a root under `dir`, driving the harness' systemd. */
export function harnessEnv(dir: string, harness: SystemdHarness): Record<string, string> {
  return isolatedEnv(dir, {
    SYSCONTAINER_UNIT_DIR: harness.unitDir,
    SYSCONTAINER_SYSTEMD_NSENTER_PID: String(harness.pid),
    SYSCONTAINER_SETTLE_MS: '1000',
  });
}

export function applyCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return cli(args, env);
}

/** systemd's start time of each unit (ExecMainStartTimestampMonotonic): unchanged means not restarted. */
export async function startTimes(harness: SystemdHarness, names: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const result = await harness.exec(['systemctl', 'show', '-p', 'ExecMainStartTimestampMonotonic', '--value', `${name}.service`]);
    out[name] = result.stdout.trim();
  }
  return out;
}

/** Writes `files` (name → text) into `dir`, removing what else is there. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
}
