// Images of our own that declare what Atomic's test images declare (projectatomic/atomic,
// tests/test-images/Dockerfile.system*, Dockerfile.runonce and their system-container-*-files)
// and what the real etcd system container declares (projectatomic/atomic-system-containers,
// etcd/): same /exports files, same variables, same labels, same kinds of privileges. The
// programs are busybox shell scripts instead of nmap-ncat and etcd, so the tests need nothing
// but the host's static busybox; what a user checks (a greeting with the --set values in it,
// written into the bind-mounted run directory) stays the same.
import { buildImage, type BuiltImage, type ContainerConfig } from '../../images/build/image.js';
import { readHostBinary } from '../../images/build/host-files.js';
import type { LayerEntry } from '../../images/build/layer.js';
import { fromHostFile, rootfsEntries } from '../../images/build/rootfs-entries.js';
import { etcdConfigTemplate } from './atomic-etcd-image.js';

const applets = ['sh', 'sleep', 'cat', 'echo', 'printf', 'ls', 'hostname', 'test', 'true', 'false', 'id', 'mkdir', 'touch'];

async function busyboxBase(): Promise<LayerEntry[]> {
  const files = await readHostBinary('/bin/busybox', 'install the Debian package busybox-static (scripts/setup-host.sh does)');
  const busybox = fromHostFile(files[0]!, 0o755);
  return [
    { ...busybox, path: '/bin/busybox' },
    ...applets.map((applet) => ({ type: 'symlink' as const, path: `/bin/${applet}`, target: 'busybox' })),
    { type: 'file', path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
    { type: 'file', path: '/etc/group', content: 'root:x:0:\ntty:x:5:\n', mode: 0o644 },
    // Mount points: a read-only rootfs cannot grow them when runc mounts.
    { type: 'file', path: '/etc/hosts', content: '', mode: 0o644 },
    { type: 'file', path: '/etc/resolv.conf', content: '', mode: 0o644 },
    ...['/proc', '/sys', '/dev', '/run', '/var/run', '/var/lib', '/etc/etcd', '/var/lib/etcd', '/var/run/etcd'].map((p) => ({ type: 'dir' as const, path: p, mode: 0o755 })),
    { type: 'dir', path: '/tmp', mode: 0o1777 },
  ];
}

const file = (path: string, content: string, mode = 0o644): LayerEntry => ({ type: 'file', path, content, mode });

async function imageOf(config: ContainerConfig, files: LayerEntry[]): Promise<BuiltImage> {
  return buildImage({
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...config },
    layers: [{ entries: rootfsEntries(await busyboxBase()) }, { entries: rootfsEntries(files) }],
  });
}

// The mounts every Atomic test template lists before its own; written out as JSON text.
const standardMounts = `
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }`;

/** The long-running "server": writes its greeting into the bind-mounted /var/run/, then waits for TERM. */
const runScript = `#!/bin/sh
/usr/bin/greet.sh > /var/run/greeting
trap 'exit 0' TERM INT
while :; do sleep 1 & wait $!; done
`;

// Dockerfile.system: PIDFile and $EXEC_STOPPOST in the unit (runc detaches), Restart=on-crash
// (a value systemd does not know: a warning, ignored), no UTS namespace, the run directory
// bind-mounted read-write, the capabilities list in a place runc ignores (linux.capabilities).
const systemConfig = `{
  "ociVersion": "0.3.0",
  "platform": { "os": "linux", "arch": "amd64" },
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": ["/usr/bin/run.sh"],
    "env": ["PORT=$PORT", "RECEIVER=$RECEIVER", "UUID=$UUID", "NAME=$NAME", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/"
  },
  "root": { "path": "rootfs", "readonly": true },
  "mounts": [${standardMounts},
    { "type": "bind", "source": "\${RUN_DIRECTORY}/\${NAME}", "destination": "/var/run/", "options": ["rbind", "rw", "mode=755"] }
  ],
  "hooks": {},
  "linux": {
    "capabilities": { "bounding": [\${ALL_PROCESS_CAPABILITIES}] },
    "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
    "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
    "namespaces": [{ "type": "pid" }, { "type": "ipc" }, { "type": "mount" }],
    "devices": null,
    "apparmorProfile": "",
    "selinuxProcessLabel": ""
  }
}
`;

export const systemServiceTemplate = `[Unit]
Description=Hello World System Container

[Service]
ExecStartPre=$EXEC_STARTPRE
ExecStart=$EXEC_START
ExecStop=$EXEC_STOP
ExecStopPost=$EXEC_STOPPOST
Restart=on-crash
WorkingDirectory=$DESTDIR
PIDFile=$PIDFILE

[Install]
WantedBy=multi-user.target
`;

const runDirectoryTmpfiles = 'D    ${RUN_DIRECTORY}/${NAME}   0700 - - - -\n';

/**
 * atomic-test-system: `--set RECEIVER=…` (default World), PORT 8081; greets into
 * RUN_DIRECTORY/NAME/greeting. `version` changes the greeting (a different image id);
 * `exitCode` makes a broken one whose server exits at once.
 */
export async function atomicTestSystem(version = 1, options: { exitCode?: number } = {}): Promise<BuiltImage> {
  const run = options.exitCode === undefined ? runScript : `#!/bin/sh
/usr/bin/greet.sh > /var/run/greeting
exit ${options.exitCode}
`;
  return imageOf({ Cmd: ['/usr/bin/run.sh'], Labels: { Name: 'atomic-test-system' } }, [
    file('/usr/bin/run.sh', run, 0o755),
    file('/usr/bin/greet.sh', `#!/bin/sh\nprintf 'Hi %s from container %s with UUID=%s on port %s (v${version})\\n' "$RECEIVER" "$NAME" "$UUID" "$PORT"\n`, 0o755),
    file('/exports/config.json.template', systemConfig),
    file('/exports/service.template', systemServiceTemplate),
    file('/exports/tmpfiles.template', runDirectoryTmpfiles),
    file('/exports/manifest.json', `${JSON.stringify({ version: '1.0', defaultValues: { PORT: '8081', RECEIVER: 'World' } }, null, 2)}\n`),
  ]);
}

// Dockerfile.system-update: atomic.type=system, a variable without a default, a unit that
// keeps runc in the foreground (no PIDFile).
const updateConfig = systemConfig
  .replace('"RECEIVER=$RECEIVER", ', '')
  .replace('"TERM=xterm"]', '"TERM=xterm", "VAR_WITH_NO_DEFAULT=$VAR_WITH_NO_DEFAULT"]')
  .replace('    "capabilities": { "bounding": [${ALL_PROCESS_CAPABILITIES}] },\n', '');

const updateServiceTemplate = `[Unit]
Description=Hello World System Container

[Service]
ExecStart=$EXEC_START
ExecStop=$EXEC_STOP
Restart=on-failure
WorkingDirectory=$DESTDIR

[Install]
WantedBy=multi-user.target
`;

/** atomic-test-system-update: needs `--set VAR_WITH_NO_DEFAULT=…`; greets "Hi from VALUE". */
export async function atomicTestSystemUpdate(): Promise<BuiltImage> {
  return imageOf({ Cmd: ['/usr/bin/run.sh'], Labels: { Name: 'atomic-test-system-update', summary: 'Updated system container image', 'atomic.type': 'system' } }, [
    file('/usr/bin/run.sh', runScript, 0o755),
    file('/usr/bin/greet.sh', `#!/bin/sh\nprintf 'Hi from %s\\n' "$VAR_WITH_NO_DEFAULT"\n`, 0o755),
    file('/exports/config.json.template', updateConfig),
    file('/exports/service.template', updateServiceTemplate),
    file('/exports/tmpfiles.template', runDirectoryTmpfiles),
    file('/exports/manifest.json', `${JSON.stringify({ version: '1.0', defaultValues: { PORT: '8081' } }, null, 2)}\n`),
  ]);
}

// Dockerfile.runonce: atomic.run=once; its own network and UTS namespaces, hostname acme.
const runonceConfig = `{
  "ociVersion": "0.6.0-dev",
  "platform": { "os": "linux", "arch": "amd64" },
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": ["/usr/bin/run.sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "NAME=$NAME", "RECEIVER=$RECEIVER"],
    "cwd": "/"
  },
  "root": { "path": "rootfs", "readonly": false },
  "hostname": "acme",
  "mounts": [${standardMounts.replace('"nodev"] },\n    { "destination": "/sys/fs/cgroup"', '"nodev", "ro"] },\n    { "destination": "/sys/fs/cgroup"')}
  ],
  "hooks": {},
  "linux": {
    "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
    "namespaces": [{ "type": "network" }, { "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }]
  }
}
`;

/** atomic-test-runonce: prints "HI $RECEIVER from $NAME (on $(hostname))" and exits. */
export async function atomicTestRunonce(): Promise<BuiltImage> {
  return imageOf({ Labels: { Name: 'atomic-test-runonce', 'atomic.run': 'once', 'atomic.type': 'system' } }, [
    file('/usr/bin/run.sh', '#!/bin/sh\necho "HI $RECEIVER from $NAME (on $(hostname))"\n', 0o755),
    file('/exports/config.json.template', runonceConfig),
    file('/exports/manifest.json', `${JSON.stringify({ version: '1.0', defaultValues: {} })}\n`),
  ]);
}

/**
 * Dockerfile.system-hostfs: host files with an empty directory (/usr/local/placeholder-lib), a
 * renamed file, a templated one, useLinks false; the service of atomic-test-system.
 */
export async function atomicTestSystemHostfs(): Promise<BuiltImage> {
  return imageOf({ Cmd: ['/usr/bin/run.sh'], Labels: { Name: 'atomic-test-system-hostfs', 'atomic.has_install_files': 'yes' } }, [
    file('/usr/bin/run.sh', runScript, 0o755),
    file('/usr/bin/greet.sh', `#!/bin/sh\nprintf 'Hi %s\\n' "$RECEIVER"\n`, 0o755),
    { type: 'dir', path: '/exports/hostfs/usr/local/placeholder-lib', mode: 0o755 },
    file('/exports/hostfs/usr/local/lib/secret-message', 'the secret message\n'),
    file('/exports/hostfs/usr/local/lib/secret-message-template', 'the secret message for $RECEIVER\n'),
    file('/exports/hostfs/usr/local/lib/placeholder-file', 'the secret message\n'),
    file('/exports/config.json.template', systemConfig),
    file('/exports/service.template', systemServiceTemplate),
    file('/exports/tmpfiles.template', runDirectoryTmpfiles),
    file(
      '/exports/manifest.json',
      `${JSON.stringify({
        version: '1.0',
        defaultValues: { PORT: '8081', RECEIVER: 'World' },
        renameFiles: { '/usr/local/lib/placeholder-file': '/usr/local/lib/renamed-$NAME' },
        installedFilesTemplate: ['/usr/local/lib/secret-message-template'],
        useLinks: false,
      })}\n`,
    ),
  ]);
}

export const etcdLikeMarker = 'etcd-like-server';

// atomic-system-containers etcd/: CAP_DAC_READ_SEARCH and CAP_AUDIT_WRITE, no UTS namespace,
// its data in $STATE_DIRECTORY/etcd/$NAME.etcd and /run/$NAME read-write, $CONF_DIRECTORY/$NAME
// read-only, $ADDTL_MOUNTS raw after the last mount; a unit with RuntimeDirectory=${NAME}.
const etcdLikeConfig = etcdConfigTemplate({
  args: ['/bin/sh', '-c', `echo ${etcdLikeMarker}; echo $$ETCD_NAME > /var/lib/etcd/member; trap 'exit 0' TERM; while :; do sleep 1 & wait $$!; done`],
  env: ['NAME=$NAME', 'ETCD_NAME=$ETCD_NAME', 'ETCD_DATA_DIR=$ETCD_DATA_DIR'],
  baseMounts: standardMounts,
  dataSource: '${STATE_DIRECTORY}/etcd/${NAME}.etcd',
  namespaces: ['pid', 'ipc', 'mount'],
  platform: true,
});

const etcdLikeService = `[Unit]
Description=Etcd Server
After=network.target

[Service]
ExecStart=$EXEC_START
ExecStop=$EXEC_STOP
Restart=on-failure
WorkingDirectory=$DESTDIR
RuntimeDirectory=\${NAME}

[Install]
WantedBy=multi-user.target
`;

const etcdLikeTmpfiles = `d    \${STATE_DIRECTORY}/etcd                0700 \${HOST_UID} \${HOST_GID} - -
d    \${STATE_DIRECTORY}/etcd/\${NAME}.etcd   0700 \${HOST_UID} \${HOST_GID} - -
Z    \${STATE_DIRECTORY}/etcd/\${NAME}.etcd   0700 \${HOST_UID} \${HOST_GID} - -
d    \${RUN_DIRECTORY}/\${NAME}               -        -           -       - -
d    \${CONF_DIRECTORY}/\${NAME}              0755 -   -       - -
`;

/** The privileges the etcd-like image asks for beyond the default, one line each, as install prints them. */
export const etcdLikePrivileges = (state: string, run: string, name: string) => [
  'capability CAP_AUDIT_WRITE',
  'capability CAP_DAC_READ_SEARCH',
  "the host's UTS namespace",
  `mounts host path ${state}/etcd/${name}.etcd read-write at /var/lib/etcd`,
  `mounts host path ${run}/${name} read-write at /var/run/etcd`,
];

/** etcd-system: the real etcd system container's declarations around a shell loop. */
export async function etcdLikeImage(): Promise<BuiltImage> {
  return imageOf({ Cmd: ['/usr/bin/etcd'], ExposedPorts: { '2379/tcp': {} }, Labels: { name: 'etcd-system', summary: 'etcd as Atomic shipped it' } }, [
    file('/exports/config.json.template', etcdLikeConfig),
    file('/exports/service.template', etcdLikeService),
    file('/exports/tmpfiles.template', etcdLikeTmpfiles),
    file(
      '/exports/manifest.json',
      `${JSON.stringify({
        version: '1.0',
        defaultValues: { CONF_DIRECTORY: '/etc', ETCD_NAME: 'default', ETCD_DATA_DIR: '/var/lib/etcd/default.etcd', ADDTL_MOUNTS: '' },
        renameFiles: { '/etc/etcd/etcd.conf': '$CONF_DIRECTORY/$NAME/etcd.conf', '/usr/local/bin/etcdctl': '/usr/local/bin/${NAME}ctl' },
      })}\n`,
    ),
    file('/exports/hostfs/etc/etcd/etcd.conf', '#ETCD_NAME=default\n'),
    file('/exports/hostfs/usr/local/bin/etcdctl', '#!/bin/sh\nexec runc exec etcd etcdctl "$@"\n', 0o755),
  ]);
}

/** busybox as `atomic install --system busybox` saw it: no /exports, its command `sh` exits 0 at once. */
export async function busyboxSh(): Promise<BuiltImage> {
  return imageOf({ Cmd: ['sh'] }, []);
}
