// Busybox service images for the health, restart and ordering tests: a marker in /etc/marker,
// a /data volume (a host directory, so a test can change what a check sees), and whatever
// command, Healthcheck and labels the test gives.
import { buildImage, type BuiltImage, type ContainerConfig } from '../../images/build/image.js';
import { readHostBinary, type HostFile } from '../../images/build/host-files.js';
import { fromHostFile, rootfsEntries } from '../../images/build/rootfs-entries.js';

const applets = ['sh', 'sleep', 'cat', 'echo', 'ls', 'test', 'touch', 'rm', 'date', 'httpd', 'wget', 'nc', 'true', 'false'];

/** A long-running service: writes /data/ready (what the default check looks at), then waits for TERM. */
export const readyService = (marker: string) => ['/bin/sh', '-c', `echo ${marker}; touch /data/ready; trap 'exit 0' TERM; while true; do sleep 1; done`];

/**
 * systemd-notify and the libraries it loads, at their host paths: busybox cannot send a
 * datagram to a unix socket, and Debian ships no static sd_notify tool.
 */
export async function systemdNotifyFiles(): Promise<HostFile[]> {
  return readHostBinary('/usr/bin/systemd-notify', 'systemd-notify comes with the Debian package systemd');
}

export async function healthImage(marker: string, config: ContainerConfig = {}, extra: HostFile[] = []): Promise<BuiltImage> {
  const files = await readHostBinary('/bin/busybox', 'install the Debian package busybox-static (scripts/setup-host.sh does)');
  const busybox = fromHostFile(files[0]!, 0o755);
  return buildImage({
    config: { Env: ['PATH=/bin'], Cmd: readyService(marker), Volumes: { '/data': {} }, ...config },
    layers: [
      {
        entries: rootfsEntries([
          { ...busybox, path: '/bin/busybox' },
          ...applets.map((applet) => ({ type: 'symlink' as const, path: `/bin/${applet}`, target: 'busybox' })),
          { type: 'file', path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
          { type: 'file', path: '/etc/group', content: 'root:x:0:\n', mode: 0o644 },
          { type: 'file', path: '/etc/marker', content: `${marker}\n`, mode: 0o644 },
          { type: 'dir', path: '/data', mode: 0o755 },
          { type: 'dir', path: '/tmp', mode: 0o1777 },
        ]),
      },
      ...(extra.length > 0 ? [{ entries: rootfsEntries(extra.map((file) => fromHostFile(file, file.mode))) }] : []),
    ],
  });
}
