// A busybox image in the exact shape of Atomic's etcd system container image
// (projectatomic/atomic-system-containers, etcd/): /exports with config.json.template (raw
// `$ADDTL_MOUNTS` after the last mount, so a value starting with `,{...}` adds mounts),
// service.template, tmpfiles.template, manifest.json with defaultValues, renameFiles and
// installedFilesTemplate, and hostfs/ with /etc/etcd/etcd.conf and /usr/local/bin/etcdctl.
// The "server" is a shell loop printing a marker, so the tests need nothing but busybox.
import { testImage, type TestImage } from './busybox-image.js';

export const etcdMarker = 'etcd-shaped-server';

/** What differs between the etcd-shaped templates of the tests; the rest is Atomic's etcd. */
export interface EtcdConfigShape {
  /** The command: a shell loop standing in for etcd. */
  args: string[];
  /** process.env before PATH and TERM. */
  env: string[];
  /** The mounts listed before etcd's own, as JSON text (objects joined by commas). */
  baseMounts: string;
  /** Host path bound read-write at /var/lib/etcd. */
  dataSource: string;
  namespaces: string[];
  /** Write the `platform` field (Atomic's older templates have it). */
  platform?: boolean;
}

const etcdCapabilities = JSON.stringify(['CAP_DAC_READ_SEARCH', 'CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);

/**
 * The config.json.template of Atomic's etcd system container (projectatomic/atomic-system-
 * containers, etcd/): its capabilities, its bind mounts of the state, run and conf directories,
 * and `$ADDTL_MOUNTS` raw after the last mount, so a value starting with `,{...}` adds mounts.
 * Written as text, not JSON.stringify: `$ADDTL_MOUNTS` sits outside any JSON string.
 */
export function etcdConfigTemplate(shape: EtcdConfigShape): string {
  return `{
  "ociVersion": "1.0.0",${shape.platform ? '\n  "platform": { "os": "linux", "arch": "amd64" },' : ''}
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": ${JSON.stringify(shape.args)},
    "env": ${JSON.stringify([...shape.env, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'])},
    "cwd": "/",
    "capabilities": {
      "bounding": ${etcdCapabilities},
      "permitted": ${etcdCapabilities},
      "inheritable": ${etcdCapabilities},
      "effective": ${etcdCapabilities},
      "ambient": ${etcdCapabilities}
    },
    "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }]
  },
  "root": { "path": "rootfs", "readonly": true },
  "mounts": [${shape.baseMounts},
    { "type": "bind", "source": "${shape.dataSource}", "destination": "/var/lib/etcd", "options": ["rbind", "rw", "mode=755"] },
    { "type": "bind", "source": "\${RUN_DIRECTORY}/\${NAME}", "destination": "/var/run/etcd", "options": ["rbind", "rw", "mode=755"] },
    { "destination": "/etc/resolv.conf", "type": "bind", "source": "/etc/resolv.conf", "options": ["ro", "rbind", "rprivate"] },
    { "type": "bind", "source": "$CONF_DIRECTORY/$NAME", "destination": "/etc/etcd/", "options": ["rbind", "ro", "rprivate"] }
    $ADDTL_MOUNTS
  ],
  "linux": {
    "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
    "namespaces": ${JSON.stringify(shape.namespaces.map((type) => ({ type })))},
    "devices": null,
    "apparmorProfile": ""
  }
}
`;
}

const configTemplate = etcdConfigTemplate({
  args: ['/bin/sh', '-c', `echo ${etcdMarker}; trap 'exit 0' TERM; while true; do sleep 1; done`],
  env: ['NAME=$NAME', 'ETCD_NAME=$ETCD_NAME', 'ETCD_DATA_DIR=$ETCD_DATA_DIR', 'ETCD_LISTEN_CLIENT_URLS=$ETCD_LISTEN_CLIENT_URLS'],
  baseMounts: `
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] }`,
  dataSource: '${STATE_DIRECTORY}/etcd/${NAME}',
  namespaces: ['pid', 'ipc', 'mount', 'uts'],
});

const serviceTemplate = `[Unit]
Description=Etcd Server

[Service]
ExecStartPre=$EXEC_STARTPRE
ExecStart=$EXEC_START
ExecStop=$EXEC_STOP
ExecStopPost=$EXEC_STOPPOST
Restart=on-failure
WorkingDirectory=$DESTDIR

[Install]
WantedBy=multi-user.target
`;

// Atomic's has the state directory only (with a `dH` line the systemd here refuses: `H` is
// not a modifier it knows); the run and conf directories are bind-mount sources too, and a
// missing source fails runc's mount.
const tmpfilesTemplate = `d     \${STATE_DIRECTORY}/etcd/\${NAME}   0700 \${HOST_UID} \${HOST_GID} - -
d     \${RUN_DIRECTORY}/\${NAME}   0755 \${HOST_UID} \${HOST_GID} - -
d     \${CONF_DIRECTORY}/\${NAME}   0755 \${HOST_UID} \${HOST_GID} - -
`;

export const etcdManifest = {
  version: '1.0',
  defaultValues: {
    CONF_DIRECTORY: '/etc',
    ETCD_NAME: 'default',
    ETCD_DATA_DIR: '/var/lib/etcd/default.etcd',
    ETCD_LISTEN_CLIENT_URLS: 'http://localhost:2379',
    ADDTL_MOUNTS: '',
  },
  renameFiles: {
    '/etc/etcd/etcd.conf': '$CONF_DIRECTORY/$NAME/etcd.conf',
    '/usr/local/bin/etcdctl': '/usr/local/bin/${NAME}ctl',
  },
};

/** The hostfs etcd.conf, templated through installedFilesTemplate. */
export const etcdConfTemplate = 'ETCD_NAME=$ETCD_NAME\nETCD_DATA_DIR=$ETCD_DATA_DIR\n# written for $NAME\n';
export const etcdctlScript = (version: string) => `#!/bin/sh\n# etcdctl wrapper ${version}\nexec runc exec \${NAME} etcdctl "$$@"\n`;

/**
 * The exports (and hostfs) files of the etcd-shaped image for container `name`:
 * installedFilesTemplate lists host paths after renaming, so it names the container.
 */
export function etcdExports(name: string, version = 'v1', manifestOverrides: Record<string, unknown> = {}): Record<string, string> {
  const manifest = { ...etcdManifest, installedFilesTemplate: [`/usr/local/bin/${name}ctl`, '/etc/etcd/etcd.conf'], ...manifestOverrides };
  return {
    'exports/config.json.template': configTemplate,
    'exports/service.template': serviceTemplate,
    'exports/tmpfiles.template': tmpfilesTemplate,
    'exports/manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'exports/hostfs/etc/etcd/etcd.conf': `${etcdConfTemplate}# ${version}\n`,
    'exports/hostfs/usr/local/bin/etcdctl': etcdctlScript(version),
  };
}

export function etcdShapedImage(imageName: string, containerName: string, version = 'v1', manifestOverrides: Record<string, unknown> = {}): TestImage {
  return testImage(imageName, { Cmd: ['/usr/bin/etcd'], Labels: { 'atomic.type': 'system' } }, etcdExports(containerName, version, manifestOverrides));
}
