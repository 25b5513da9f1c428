// The few files and directories every small image here needs: the users and groups, mount
// points for what the runtime mounts (a read-only rootfs cannot grow them at start), and
// resolver configuration for Go and busybox programs. Data only.
import type { LayerEntry } from '../build/layer.js';

export const passwd = `root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;

export const group = `root:x:0:
tty:x:5:
nogroup:x:65534:
`;

export function baseFiles(): LayerEntry[] {
  return [
    { type: 'file', path: '/etc/passwd', content: passwd, mode: 0o644 },
    { type: 'file', path: '/etc/group', content: group, mode: 0o644 },
    { type: 'file', path: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n', mode: 0o644 },
    // Mount points of the host's files (bind-mounted read-only by the runtime config).
    { type: 'file', path: '/etc/hosts', content: '', mode: 0o644 },
    { type: 'file', path: '/etc/resolv.conf', content: '', mode: 0o644 },
    { type: 'dir', path: '/proc', mode: 0o555 },
    { type: 'dir', path: '/sys', mode: 0o555 },
    { type: 'dir', path: '/dev', mode: 0o755 },
    { type: 'dir', path: '/run', mode: 0o755 },
    { type: 'dir', path: '/tmp', mode: 0o1777 },
    { type: 'dir', path: '/root', mode: 0o700 },
  ];
}
