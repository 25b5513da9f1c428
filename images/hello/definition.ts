// A tiny service with no /exports: what runs comes from the image config alone
// (Entrypoint, Cmd, Env, WorkingDir, a Volume). busybox from Debian's busybox-static (one
// static binary) serves /www on 127.0.0.1:8099 and logs each request to stderr.
import { SyscontainerError } from '../../common/errors.js';
import { baseFiles } from '../common/base-files.js';
import { hostPlatform, readHostBinary } from '../build/host-files.js';
import type { ImageDefinition } from '../build/image.js';
import { fromHostFile, rootfsEntries } from '../build/rootfs-entries.js';

export const helloPort = 8099;
export const helloPage = 'hello from a syscontainer\n';

export async function helloDefinition(): Promise<ImageDefinition> {
  const files = await readHostBinary('/bin/busybox', 'install the Debian package busybox-static (scripts/setup-host.sh does)');
  if (files.length !== 1) {
    // A dynamic busybox would need its libraries; the image is meant to hold one static binary.
    throw new SyscontainerError('EINVAL', '/bin/busybox is dynamically linked', { hint: 'install the Debian package busybox-static' });
  }
  const busybox = fromHostFile(files[0]!, 0o755);
  return {
    format: 'oci',
    platform: hostPlatform(),
    config: {
      Env: ['PATH=/bin', `HELLO_PORT=${helloPort}`],
      Entrypoint: ['/bin/busybox', 'httpd', '-f', '-v'],
      Cmd: ['-p', `127.0.0.1:${helloPort}`, '-h', '/www'],
      WorkingDir: '/www',
      Volumes: { '/data': {} },
      ExposedPorts: { [`${helloPort}/tcp`]: {} },
      Labels: { 'org.opencontainers.image.title': 'hello' },
    },
    layers: [
      {
        createdBy: 'base files and busybox (Debian busybox-static)',
        entries: rootfsEntries([
          ...baseFiles(),
          { ...busybox, path: '/bin/busybox' },
          { type: 'symlink', path: '/bin/sh', target: 'busybox' },
          { type: 'dir', path: '/data', mode: 0o755 },
        ]),
      },
      {
        createdBy: 'the page',
        entries: rootfsEntries([{ type: 'file', path: '/www/index.html', content: helloPage, mode: 0o644 }]),
      },
    ],
  };
}
