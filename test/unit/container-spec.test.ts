import test from 'ava';
import { addServiceLines, applyContainerSpec, commandLine, parseContainerSpec, type ContainerSpec } from '../../runtime/container-spec.js';
import { describeExtraPrivileges } from '../../runtime/privileges.js';
import { defaultCapabilities } from '../../runtime/privileges.js';
import type { OciRuntimeSpec } from '../../runtime/oci-runtime-spec.js';

const baseSpec: OciRuntimeSpec = {
  ociVersion: '1.0.2',
  process: {
    user: { uid: 0, gid: 0 },
    args: ['/usr/bin/httpd', '-f'],
    env: ['PATH=/usr/bin:/bin', 'MODE=dev'],
    cwd: '/',
    capabilities: { bounding: [...defaultCapabilities], effective: [...defaultCapabilities], permitted: [...defaultCapabilities], inheritable: [], ambient: [] },
    noNewPrivileges: true,
  },
  root: { path: '/rootfs', readonly: true },
  mounts: [{ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'ro'] }],
  linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }], resources: { devices: [{ allow: false, access: 'rwm' }] }, maskedPaths: ['/proc/kcore'] },
};
const unit = '[Unit]\nDescription=x\n\n[Service]\nExecStart=/usr/sbin/runc run x\n\n[Install]\nWantedBy=multi-user.target\n';
const image = { entrypoint: ['/usr/bin/httpd'], cmd: ['-f'] };

function apply(containerSpec: ContainerSpec) {
  return applyContainerSpec({ containerSpec: parseContainerSpec(containerSpec, 'test'), spec: baseSpec, unit, image, destDir: '/root/x.0', root: '/root' });
}
const privileges = (r: ReturnType<typeof apply>) => describeExtraPrivileges(r.spec, { ownDirectories: r.ownDirectories, ownNamespaces: r.ownNamespaces });

test('command replaces the entrypoint and drops Cmd; args replace Cmd (Kubernetes rules)', (t) => {
  t.deepEqual(commandLine({ command: ['/bin/sh'] }, image, ['/usr/bin/httpd', '-f']), ['/bin/sh']);
  t.deepEqual(commandLine({ args: ['-v'] }, image, ['/usr/bin/httpd', '-f']), ['/usr/bin/httpd', '-v']);
  t.deepEqual(commandLine({ command: ['/bin/sh'], args: ['-c', 'x'] }, image, []), ['/bin/sh', '-c', 'x']);
  // An /exports image has no Entrypoint/Cmd: its config.json's args are the baseline.
  t.deepEqual(commandLine({ args: ['--debug'] }, { entrypoint: [], cmd: [] }, ['/usr/bin/etcd', '--x']), ['/usr/bin/etcd', '--debug']);
});

test('env, workingDir and mounts are applied; the default confinement needs no consent', (t) => {
  const r = apply({ env: { MODE: 'prod', EXTRA: 'a=b' }, workingDir: '/srv', pod: 'web', network: 'pod', mounts: [
    { type: 'pod-volume', volume: 'work', destination: '/work' },
    { type: 'files', destination: '/etc/app', files: [{ name: 'app.conf', content: 'x=1\n' }] },
    { type: 'file', destination: '/etc/one.conf', content: 'y\n', mode: 0o600 },
    { type: 'bind', source: '/etc/ssl', destination: '/etc/ssl', readOnly: true },
  ] });
  t.deepEqual(r.spec.process.env, ['PATH=/usr/bin:/bin', 'MODE=prod', 'EXTRA=a=b']);
  t.is(r.spec.process.cwd, '/srv');
  t.deepEqual(r.files, [
    { path: 'files/1/app.conf', content: 'x=1\n', mode: 0o644 },
    { path: 'files/2/one.conf', content: 'y\n', mode: 0o600 },
  ]);
  t.deepEqual(r.spec.mounts?.slice(1).map((m) => [m.destination, m.source, m.options?.includes('ro')]), [
    ['/work', '/root/.pods/web/volumes/work', false],
    ['/etc/app', '/root/x.0/files/1', true],
    ['/etc/one.conf', '/root/x.0/files/2/one.conf', true],
    ['/etc/ssl', '/etc/ssl', true],
  ]);
  t.deepEqual(r.spec.linux.namespaces?.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/syscontainer-web' });
  t.regex(r.unit, /\[Unit\]\nDescription=x\n# The pod's network namespace .*\nRequires=syscontainer-pod-web.service\nAfter=syscontainer-pod-web.service\n\n\[Service\]/);
  t.deepEqual(privileges(r), []);
});

test('caps, privileged, host namespaces and rw host mounts are privileges to consent to', (t) => {
  t.deepEqual(privileges(apply({ capabilities: { add: ['net_admin'], drop: ['CAP_KILL'] } })), ['capability CAP_NET_ADMIN']);
  t.false(apply({ capabilities: { drop: ['ALL'] } }).spec.process.capabilities?.bounding?.length !== 0);
  t.deepEqual(privileges(apply({ hostPid: true, hostIpc: true })), ["the host's PID namespace", "the host's IPC namespace"]);
  t.deepEqual(privileges(apply({ mounts: [{ type: 'bind', source: '/var/lib/x', destination: '/x' }] })), ['mounts host path /var/lib/x read-write at /x']);
  const all = privileges(apply({ privileged: true }));
  t.true(all.includes('capability CAP_SYS_ADMIN'));
  t.true(all.includes('access to all host devices'));
  t.deepEqual(privileges(apply({ user: '1000', noNewPrivileges: false })), []);
});

test('resource limits go into the unit; bad specs are refused naming the field', (t) => {
  const r = apply({ resources: { memoryBytes: 64 << 20, cpuMillis: 250, cpuWeight: 50 } });
  t.regex(r.unit, /\[Service\]\nExecStart=\/usr\/sbin\/runc run x\n# Limits.*\nMemoryMax=67108864\nCPUQuota=25%\nCPUWeight=50\n\n\[Install\]/);
  t.throws(() => parseContainerSpec({ mounts: [{ type: 'bind', source: '/a/../etc', destination: '/x' }] }, 'c'), { message: /^c: mounts.0.source: must be a normalised path/ });
  t.throws(() => parseContainerSpec({ network: 'pod' }, 'c'), { message: 'c: network: "pod" needs a pod' });
  t.throws(() => parseContainerSpec({ capabilities: { add: ['CAP_FLY'] } }, 'c'), { message: /capabilities.add.0: not a capability name/ });
  t.throws(() => parseContainerSpec({ extra: 1 }, 'c'), { message: /Unrecognized key/ });
  t.is(addServiceLines('[Unit]\nA=1\n', 'Service', ['B=2']), '[Unit]\nA=1\n\n[Service]\nB=2\n');
});

test('a oneshot runs once: Type=oneshot, stays active, never restarted; its config.json says so', (t) => {
  const r = apply({ oneshot: true, hostname: 'web' });
  t.regex(r.unit, /Type=oneshot\nRemainAfterExit=yes\nRestart=no\n/);
  t.is(r.spec.annotations?.['io.syscontainer.oneshot'], 'true');
  t.is(r.spec.hostname, 'web');
  t.false(/SuccessExitStatus/.test(r.unit));
  // paunch's exit_codes: systemd and runc-direct both count them as success.
  const codes = apply({ oneshot: true, successExitCodes: [2, 3] });
  t.regex(codes.unit, /^SuccessExitStatus=2 3$/m);
  t.is(codes.spec.annotations?.['io.syscontainer.oneshot.success-exit-codes'], '2,3');
  t.throws(() => parseContainerSpec({ successExitCodes: [2] }, 'container x'), { message: 'container x: successExitCodes: only for a container that runs once (oneshot)' });
});
