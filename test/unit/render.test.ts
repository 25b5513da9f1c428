import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { renderDeployment, unitCgroupPath, type RenderInput } from '../../runtime/render.js';
import { parseRuntimeSpec } from '../../runtime/oci-runtime-spec.js';
import type { ImageConfig } from '../../store/oci/oci-types.js';
import { matchesGolden } from '../helpers/golden.js';

async function makeRootfs(t: ExecutionContext, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-render-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

const destDir = '/var/lib/containers/atomic/web.0';
const configDigest = `sha256:${'c0'.repeat(32)}`;

function imageConfig(config: NonNullable<ImageConfig['config']>): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] } };
}

function input(rootfs: string, config: ImageConfig, extra: Partial<RenderInput> = {}): RenderInput {
  return {
    name: 'web',
    destDir,
    rootfs,
    image: { name: '127.0.0.1:5000/web:1.0', configDigest, config },
    runtimePath: '/usr/sbin/runc',
    previousUuid: '11111111-2222-4333-8444-555555555555',
    capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
    hostUid: 0,
    hostGid: 0,
    ...extra,
  };
}

const passwd = 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n';
const group = 'root:x:0:\nwww:x:33:\nlogs:x:4:\n';

const webConfig = imageConfig({
  Entrypoint: ['/usr/bin/httpd'],
  Cmd: ['-f', '-p', '8080'],
  Env: ['PATH=/usr/bin:/bin', 'GREETING=hello world'],
  WorkingDir: '/srv/www',
  User: 'www',
  ExposedPorts: { '8080/tcp': {} },
  Labels: { 'org.opencontainers.image.title': 'web' },
  Volumes: { '/var/lib/web': {}, '/srv/data/': {} },
  StopSignal: 'SIGQUIT',
});

test('an image without /exports gets our templates, filled from its config (golden)', async (t) => {
  const rootfs = await makeRootfs(t, { 'etc/passwd': passwd, 'etc/group': group });
  const r = await renderDeployment(input(rootfs, webConfig));
  t.is(r.source, 'image-config');
  t.deepEqual(r.privileges, []);
  t.deepEqual(r.exposedPorts, ['8080/tcp']);
  t.is(r.stateDirectory, '/var/lib/web');
  await matchesGolden(t, 'default-config.json', r.configJson);
  await matchesGolden(t, 'default.service', r.unit);
  await matchesGolden(t, 'default-tmpfiles.conf', r.tmpfiles ?? '');
  // What a user checks by eye, stated once more outside the golden file:
  t.deepEqual(r.spec.process.args, ['/usr/bin/httpd', '-f', '-p', '8080']);
  t.deepEqual(r.spec.process.user, { uid: 33, gid: 33 });
  t.is(r.spec.process.noNewPrivileges, true);
  t.deepEqual(r.spec.root, { path: `${destDir}/rootfs`, readonly: true });
  t.false((r.spec.linux.namespaces ?? []).some((n) => n.type === 'network'), 'host network');
  t.is(r.spec.linux.cgroupsPath, '/system.slice/web.service/container');
  t.true(r.spec.mounts?.some((m) => m.destination === '/var/lib/web' && m.source === '/var/lib/web/var_lib_web'));
  t.regex(r.unit, /^KillSignal=SIGQUIT$/m);
  t.regex(r.unit, /^ExecStart=\/usr\/bin\/systemd-cat --identifier=web --priority=info --stderr-priority=err --level-prefix=false \/usr\/sbin\/runc run --pid-file \/var\/lib\/containers\/atomic\/web\.0\/container\.pid --bundle \/var\/lib\/containers\/atomic\/web\.0 web$/m);
});

test('numeric user:group, and a name from /etc/group', async (t) => {
  const rootfs = await makeRootfs(t, { 'etc/passwd': passwd, 'etc/group': group });
  const numeric = await renderDeployment(input(rootfs, imageConfig({ Cmd: ['x'], User: '1000:1001' })));
  t.deepEqual(numeric.spec.process.user, { uid: 1000, gid: 1001 });
  const named = await renderDeployment(input(rootfs, imageConfig({ Cmd: ['x'], User: 'www:logs' })));
  t.deepEqual(named.spec.process.user, { uid: 33, gid: 4 });
  const uidOnly = await renderDeployment(input(rootfs, imageConfig({ Cmd: ['x'], User: '33' })));
  t.deepEqual(uidOnly.spec.process.user, { uid: 33, gid: 33 }, 'primary group from /etc/passwd');
});

test('an unknown user name is an error naming it', async (t) => {
  const rootfs = await makeRootfs(t, { 'etc/passwd': passwd });
  await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({ Cmd: ['x'], User: 'nobody' }))), {
    message: /user "nobody" is not in the image's \/etc\/passwd/,
  });
});

test('/etc/passwd symlinked to an absolute path resolves inside the rootfs, not on the host', async (t) => {
  const rootfs = await makeRootfs(t, { 'etc/real-passwd': 'svc:x:77:78::/:/bin/false\n' });
  await symlink('/etc/real-passwd', path.join(rootfs, 'etc/passwd'));
  const r = await renderDeployment(input(rootfs, imageConfig({ Cmd: ['x'], User: 'svc' })));
  t.deepEqual(r.spec.process.user, { uid: 77, gid: 78 });
  // One climbing out with .. stays inside as well: the host's /etc/hostname is not read as passwd.
  await rm(path.join(rootfs, 'etc/passwd'));
  await symlink('../../../../../../../../etc/hostname', path.join(rootfs, 'etc/passwd'));
  await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({ Cmd: ['x'], User: 'root' }))), { message: /user "root" is not/ });
});

test('an image with neither /exports nor a command is refused', async (t) => {
  const rootfs = await makeRootfs(t);
  const error = await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({ Env: ['A=b'] }))), {
    message: /image 127\.0\.0\.1:5000\/web:1\.0: not a system container image and has no command/,
  });
  t.is((error as { code?: string }).code, 'EMANIFEST');
});

const exportsConfig = JSON.stringify(
  {
    ociVersion: '1.0.0',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['/usr/bin/etcd', '--name', '$NAME', '--data-dir', '$STATE_DIRECTORY/$NAME', '--port', '$ETCD_PORT'],
      env: ['UUID=$UUID'],
      cwd: '/',
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    },
    root: { path: 'rootfs', readonly: false },
    mounts: [{ destination: '/var/lib/etcd', type: 'bind', source: '$STATE_DIRECTORY/$NAME', options: ['rbind', 'rw'] }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
  },
  null,
  2,
);

const exportsFiles = {
  'exports/config.json.template': exportsConfig,
  'exports/service.template':
    '[Unit]\nDescription=etcd $NAME\n\n[Service]\nExecStartPre=$EXEC_STARTPRE\nExecStart=$EXEC_START\nExecStop=$EXEC_STOP\nExecStopPost=$EXEC_STOPPOST\nWorkingDirectory=$DESTDIR\nDelegate=yes\n\n[Install]\nWantedBy=multi-user.target\n',
  'exports/tmpfiles.template': 'd $STATE_DIRECTORY/$NAME 0700 $HOST_UID $HOST_GID - -\n',
  'exports/manifest.json': JSON.stringify({ version: '1.0', defaultValues: { ETCD_PORT: '2379' } }),
};

test('an Atomic image brings its own templates under /exports (golden)', async (t) => {
  const rootfs = await makeRootfs(t, exportsFiles);
  const r = await renderDeployment(input(rootfs, imageConfig({}), { set: { ETCD_PORT: '4001' } }));
  t.is(r.source, 'exports');
  await matchesGolden(t, 'exports-config.json', r.configJson);
  await matchesGolden(t, 'exports.service', r.unit);
  await matchesGolden(t, 'exports-tmpfiles.conf', r.tmpfiles ?? '');
  t.deepEqual(r.spec.root, { path: `${destDir}/rootfs`, readonly: true }, 'read-only root forced over the template');
  t.is(r.spec.process.terminal, false);
  t.true(r.spec.process.args.includes('4001'), '--set beats defaultValues');
  t.is(r.spec.linux.cgroupsPath, '/system.slice/web.service/container');
});

test('defaultValues fill variables nothing else sets', async (t) => {
  const rootfs = await makeRootfs(t, exportsFiles);
  const r = await renderDeployment(input(rootfs, imageConfig({})));
  t.true(r.spec.process.args.includes('2379'));
});

test('an unset variable in an image template names variable and file', async (t) => {
  const rootfs = await makeRootfs(t, { ...exportsFiles, 'exports/manifest.json': '{}' });
  const error = await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({}))), {
    message: /\/exports\/config\.json\.template:\d+: variable ETCD_PORT is not set/,
  });
  t.is((error as { code?: string }).code, 'ETEMPLATE');
});

test('a template that renders into invalid JSON is an ETEMPLATE naming the file', async (t) => {
  const rootfs = await makeRootfs(t, { 'exports/config.json.template': '{\n  "ociVersion": "1.0.0",\n  "process": $BROKEN\n}\n' });
  const error = await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({}), { set: { BROKEN: '{' } })), {
    message: /\/exports\/config\.json\.template(:\d+)?: not valid JSON after rendering/,
  });
  t.is((error as { code?: string }).code, 'ETEMPLATE');
});

test('a config.json missing required fields names the field', async (t) => {
  const rootfs = await makeRootfs(t, { 'exports/config.json': JSON.stringify({ ociVersion: '1', process: { user: { uid: 0, gid: 0 }, args: [], cwd: '/' }, root: { path: 'rootfs' }, linux: {} }) });
  await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({}))), { message: /\/exports\/config\.json: process\.args: needs at least/ });
});

const privileged = (patch: (spec: Record<string, any>) => void) => {
  const spec = JSON.parse(exportsConfig.replace('$ETCD_PORT', '1'));
  patch(spec);
  return { 'exports/config.json.template': JSON.stringify(spec) };
};

const privilegeCases: Array<[string, (spec: Record<string, any>) => void, RegExp]> = [
  ['CAP_SYS_ADMIN', (s) => (s.process.capabilities.bounding = ['CAP_KILL', 'CAP_SYS_ADMIN']), /capability CAP_SYS_ADMIN/],
  ['host PID namespace', (s) => (s.linux.namespaces = [{ type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]), /the host's PID namespace/],
  ['mounting / ', (s) => s.mounts.push({ destination: '/host', type: 'bind', source: '/', options: ['rbind', 'ro'] }), /mounts the host's root filesystem at \/host/],
  ['a host path read-write', (s) => s.mounts.push({ destination: '/etc/x', type: 'bind', source: '/etc', options: ['rbind', 'rw'] }), /mounts host path \/etc read-write/],
  ['joining a namespace by path', (s) => s.linux.namespaces.push({ type: 'network', path: '/proc/1/ns/net' }), /joins the namespace \/proc\/1\/ns\/net/],
];
for (const [label, patch, message] of privilegeCases) {
  test(`asking for ${label} needs consent`, async (t) => {
    const rootfs = await makeRootfs(t, privileged(patch));
    const error = await t.throwsAsync(renderDeployment(input(rootfs, imageConfig({}))), { message });
    t.is((error as { code?: string }).code, 'EINVAL');
    t.regex((error as { hint?: string }).hint ?? '', /--privileged/);
    const granted = await renderDeployment(input(rootfs, imageConfig({}), { allowPrivileges: true }));
    t.true(granted.privileges.some((p) => message.test(p)));
  });
}

test('the container state dir itself is writable without consent', async (t) => {
  const rootfs = await makeRootfs(t, exportsFiles);
  t.deepEqual((await renderDeployment(input(rootfs, imageConfig({})))).privileges, []);
});

test('a unit in another slice puts the container under that slice', async (t) => {
  const rootfs = await makeRootfs(t, {
    ...exportsFiles,
    'exports/service.template': exportsFiles['exports/service.template'].replace('Delegate=yes', 'Delegate=yes\nSlice=machine-etcd.slice'),
  });
  const r = await renderDeployment(input(rootfs, imageConfig({})));
  t.is(r.spec.linux.cgroupsPath, '/machine.slice/machine-etcd.slice/web.service/container');
  t.is(unitCgroupPath('x.service', '-.slice'), '/x.service');
});

test('a --set path with a space (would split a unit or tmpfiles line) is refused', async (t) => {
  const rootfs = await makeRootfs(t, { 'etc/passwd': passwd });
  await t.throwsAsync(renderDeployment(input(rootfs, webConfig, { set: { STATE_DIRECTORY: '/var/my state' } })), {
    message: /STATE_DIRECTORY "\/var\/my state": must be an absolute path/,
  });
});

test('the OCI schema accepts what runc spec writes', (t) => {
  const runcSpec = {
    ociVersion: '1.0.2-dev',
    process: { terminal: true, user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin'], cwd: '/', capabilities: { bounding: ['CAP_KILL'] }, noNewPrivileges: true },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { resources: { devices: [{ allow: false, access: 'rwm' }] }, namespaces: [{ type: 'pid' }, { type: 'network' }], maskedPaths: ['/proc/kcore'] },
  };
  t.notThrows(() => parseRuntimeSpec(JSON.stringify(runcSpec), 'config.json'));
});

test('privileges consented to earlier need no new consent; new ones do', async (t) => {
  const rootfs = await makeRootfs(t, privileged((s) => (s.process.capabilities.bounding = ['CAP_KILL', 'CAP_SYS_ADMIN'])));
  const first = await renderDeployment(input(rootfs, imageConfig({}), { allowPrivileges: true }));
  const again = await renderDeployment(input(rootfs, imageConfig({}), { consentedPrivileges: first.privileges }));
  t.deepEqual(again.privileges, first.privileges);
  const more = await makeRootfs(t, privileged((s) => (s.process.capabilities.bounding = ['CAP_KILL', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'])));
  await t.throwsAsync(renderDeployment(input(more, imageConfig({}), { consentedPrivileges: first.privileges })), {
    message: /privileges beyond the default: capability CAP_NET_ADMIN$/,
  });
});

test('a service template using $PIDFILE and $EXEC_STOPPOST gets a detached runc with a pid file (as Atomic did)', async (t) => {
  const rootfs = await makeRootfs(t, {
    ...exportsFiles,
    'exports/service.template': '[Service]\nType=forking\nPIDFile=$PIDFILE\nExecStart=$EXEC_START\nExecStopPost=$EXEC_STOPPOST\n',
  });
  const r = await renderDeployment(input(rootfs, imageConfig({})));
  t.regex(r.unit, /^ExecStart=\/usr\/sbin\/runc run --detach --pid-file \/run\/container-web\.pid --bundle \/var\/lib\/containers\/atomic\/web\.0 web$/m);
  const plain = await renderDeployment(input(await makeRootfs(t, exportsFiles), imageConfig({})));
  t.regex(plain.unit, /^ExecStart=\/usr\/sbin\/runc run --pid-file \/var\/lib\/containers\/atomic\/web\.0\/container\.pid --bundle /m);
});
