// What the etcd image ships under /exports, in the shape of Atomic's spc-etcd image: an OCI
// runtime config template, a systemd unit template, a tmpfiles template and manifest.json
// with the defaults of the image's own variables. Variables use Atomic's `$VAR` syntax and
// sit inside JSON strings, so the rendered config.json is valid JSON whatever the values.
//
// Installer-provided variables used: NAME, DESTDIR, EXEC_START, EXEC_STOP, EXEC_STARTPRE,
// EXEC_STOPPOST, HOST_UID, HOST_GID, STATE_DIRECTORY, RUN_DIRECTORY. The ETCD_* and ETCDCTL_*
// variables are the image's, with defaults in manifest.json.

/** Environment of the server; etcd reads its flags from ETCD_* variables (empty ones are ignored). */
const serverEnv = [
  'ETCD_NAME',
  'ETCD_DATA_DIR',
  'ETCD_LISTEN_CLIENT_URLS',
  'ETCD_ADVERTISE_CLIENT_URLS',
  'ETCD_LISTEN_PEER_URLS',
  'ETCD_INITIAL_ADVERTISE_PEER_URLS',
  'ETCD_INITIAL_CLUSTER',
  'ETCD_INITIAL_CLUSTER_STATE',
  'ETCD_INITIAL_CLUSTER_TOKEN',
  'ETCD_SNAPSHOT_COUNT',
  'ETCD_HEARTBEAT_INTERVAL',
  'ETCD_ELECTION_TIMEOUT',
  'ETCD_MAX_SNAPSHOTS',
  'ETCD_MAX_WALS',
  'ETCD_QUOTA_BACKEND_BYTES',
  'ETCD_AUTO_COMPACTION_RETENTION',
  'ETCD_CERT_FILE',
  'ETCD_KEY_FILE',
  'ETCD_TRUSTED_CA_FILE',
  'ETCD_CLIENT_CERT_AUTH',
  'ETCD_PEER_CERT_FILE',
  'ETCD_PEER_KEY_FILE',
  'ETCD_PEER_TRUSTED_CA_FILE',
  'ETCD_PEER_CLIENT_CERT_AUTH',
  'ETCD_LOG_LEVEL',
  'ETCD_LOGGER',
  // etcdctl run in the container (syscontainer exec NAME etcdctl ...) reaches this server.
  'ETCDCTL_API',
  'ETCDCTL_ENDPOINTS',
];

export const manifestJson = {
  version: '1.0',
  defaultValues: {
    ETCD_NAME: 'default',
    // Inside the bind mount of $STATE_DIRECTORY/$NAME, so the data survives update and rollback.
    ETCD_DATA_DIR: '/var/lib/etcd',
    ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:2379',
    ETCD_ADVERTISE_CLIENT_URLS: 'http://127.0.0.1:2379',
    ETCD_LISTEN_PEER_URLS: 'http://127.0.0.1:2380',
    ETCD_INITIAL_ADVERTISE_PEER_URLS: 'http://127.0.0.1:2380',
    ETCD_INITIAL_CLUSTER: 'default=http://127.0.0.1:2380',
    ETCD_INITIAL_CLUSTER_STATE: 'new',
    ETCD_INITIAL_CLUSTER_TOKEN: 'etcd-cluster',
    ETCD_SNAPSHOT_COUNT: '10000',
    ETCD_HEARTBEAT_INTERVAL: '100',
    ETCD_ELECTION_TIMEOUT: '1000',
    ETCD_MAX_SNAPSHOTS: '5',
    ETCD_MAX_WALS: '5',
    ETCD_QUOTA_BACKEND_BYTES: '',
    ETCD_AUTO_COMPACTION_RETENTION: '',
    ETCD_CERT_FILE: '',
    ETCD_KEY_FILE: '',
    ETCD_TRUSTED_CA_FILE: '',
    ETCD_CLIENT_CERT_AUTH: 'false',
    ETCD_PEER_CERT_FILE: '',
    ETCD_PEER_KEY_FILE: '',
    ETCD_PEER_TRUSTED_CA_FILE: '',
    ETCD_PEER_CLIENT_CERT_AUTH: 'false',
    ETCD_LOG_LEVEL: 'info',
    ETCD_LOGGER: 'zap',
    ETCDCTL_API: '3',
    ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379',
  },
};

const capabilities = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The OCI runtime config template: read-only rootfs, host network, data in a host state dir. */
export const configTemplate = {
  ociVersion: '1.0.2',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['/usr/bin/etcd'],
    env: [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'NAME=$NAME',
      ...serverEnv.map((name) => `${name}=$${name}`),
    ],
    cwd: '/',
    capabilities: {
      bounding: capabilities,
      effective: capabilities,
      inheritable: capabilities,
      permitted: capabilities,
      ambient: capabilities,
    },
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: '$NAME',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
    { destination: '/var/lib/etcd', type: 'bind', source: '$STATE_DIRECTORY/$NAME', options: ['rbind', 'rw', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro', 'rprivate'] },
  ],
  linux: {
    // No network namespace: etcd listens on the host's 127.0.0.1.
    namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }],
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    maskedPaths: [
      '/proc/acpi',
      '/proc/asound',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/sys/firmware',
    ],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
};

export const serviceTemplate = `[Unit]
Description=etcd key-value store in system container $NAME
After=network-online.target
Wants=network-online.target

[Service]
ExecStartPre=$EXEC_STARTPRE
ExecStart=$EXEC_START
ExecStop=$EXEC_STOP
ExecStopPost=$EXEC_STOPPOST
Restart=on-failure
RestartSec=2
WorkingDirectory=$DESTDIR

[Install]
WantedBy=multi-user.target
`;

/** The state dir must exist before runc bind-mounts it; etcd wants its data dir 0700. */
export const tmpfilesTemplate = `d $STATE_DIRECTORY/$NAME 0700 $HOST_UID $HOST_GID - -
`;

/** The files of /exports, path → content. */
export function exportsFiles(): { path: string; content: string }[] {
  return [
    { path: '/exports/config.json.template', content: `${JSON.stringify(configTemplate, null, 2)}\n` },
    { path: '/exports/manifest.json', content: `${JSON.stringify(manifestJson, null, 2)}\n` },
    { path: '/exports/service.template', content: serviceTemplate },
    { path: '/exports/tmpfiles.template', content: tmpfilesTemplate },
  ];
}
