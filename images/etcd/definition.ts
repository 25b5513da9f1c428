// The etcd system container: etcd and etcdctl from Debian's etcd-server and etcd-client
// packages (with the libraries they load when dynamically linked), a minimal /etc, and
// /exports in the shape of Atomic's spc-etcd image (see exports.ts). Data lives in the host
// state dir $STATE_DIRECTORY/$NAME, bind-mounted at /var/lib/etcd, so it survives update
// and rollback.
import { baseFiles } from '../common/base-files.js';
import { hostPlatform, readHostBinary } from '../build/host-files.js';
import type { ImageDefinition } from '../build/image.js';
import { fromHostFile, rootfsEntries } from '../build/rootfs-entries.js';
import { exportsFiles } from './exports.js';

export const etcdBinaries = [
  { path: '/usr/bin/etcd', hint: 'install the Debian package etcd-server (scripts/setup-host.sh does)' },
  { path: '/usr/bin/etcdctl', hint: 'install the Debian package etcd-client (scripts/setup-host.sh does)' },
];

export async function etcdDefinition(): Promise<ImageDefinition> {
  const binaries = (await Promise.all(etcdBinaries.map((b) => readHostBinary(b.path, b.hint)))).flat();
  return {
    format: 'oci',
    platform: hostPlatform(),
    config: {
      Env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'ETCD_DATA_DIR=/var/lib/etcd',
        'ETCDCTL_API=3',
        'ETCDCTL_ENDPOINTS=http://127.0.0.1:2379',
      ],
      Cmd: ['/usr/bin/etcd'],
      ExposedPorts: { '2379/tcp': {}, '2380/tcp': {} },
      Volumes: { '/var/lib/etcd': {} },
      WorkingDir: '/',
      Labels: {
        'org.opencontainers.image.title': 'etcd',
        'org.opencontainers.image.description': 'etcd key-value store as a syscontainer system container',
        'atomic.type': 'system',
      },
    },
    layers: [
      {
        createdBy: 'base files',
        entries: rootfsEntries([...baseFiles(), { type: 'dir', path: '/var/lib/etcd', mode: 0o700 }]),
      },
      {
        createdBy: 'etcd and etcdctl from the host (Debian etcd-server, etcd-client)',
        entries: rootfsEntries(binaries.map((file) => fromHostFile(file, file.mode & 0o755))),
      },
      {
        createdBy: 'system container templates under /exports',
        entries: rootfsEntries(exportsFiles().map((f) => ({ type: 'file' as const, path: f.path, content: f.content, mode: 0o644 }))),
      },
    ],
  };
}
