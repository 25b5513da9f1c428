import test from 'ava';
import { computeValues, parseSetArguments, validateSetValues, installerVariables } from '../../runtime/values.js';

const base = {
  name: 'etcd',
  destDir: '/var/lib/containers/atomic/etcd.0',
  imageName: 'docker.io/gscrivano/spc-etcd:latest',
  imageId: 'ab'.repeat(32),
  runtimePath: '/usr/sbin/runc',
  hostUid: 0,
  hostGid: 0,
  capabilities: ['CAP_CHOWN', 'CAP_KILL'],
};

test('computed defaults as Atomic defined them', (t) => {
  const v = computeValues(base);
  t.is(v.RUN_DIRECTORY, '/run');
  t.is(v.STATE_DIRECTORY, '/var/lib');
  t.is(v.CONF_DIRECTORY, '/etc');
  t.is(v.PIDFILE, '/run/container-etcd.pid');
  t.is(v.RUNTIME, '/usr/sbin/runc');
  t.is(v.ALL_PROCESS_CAPABILITIES, '"CAP_CHOWN",\n"CAP_KILL"');
  t.regex(v.UUID ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(v.DESTDIR, base.destDir);
  t.is(v.NAME, 'etcd');
  t.is(v.IMAGE_NAME, base.imageName);
  t.is(v.IMAGE_ID, base.imageId);
  t.is(v.HOST_UID, '0');
  t.is(v.EXEC_START, '/usr/sbin/runc run --pid-file /var/lib/containers/atomic/etcd.0/container.pid --bundle /var/lib/containers/atomic/etcd.0 etcd');
  t.is(v.EXEC_STARTPRE, '-/usr/sbin/runc delete --force etcd');
  t.is(v.EXEC_STOPPOST, '-/usr/sbin/runc delete --force etcd');
});

test('precedence: --set > computed > defaultValues', (t) => {
  const v = computeValues({
    ...base,
    set: { STATE_DIRECTORY: '/srv', ETCD_PORT: '2380' },
    defaultValues: { STATE_DIRECTORY: '/from-manifest', RUN_DIRECTORY: '/from-manifest', ETCD_PORT: '2379', EXTRA: 'x', NUM: 3 },
  });
  t.is(v.STATE_DIRECTORY, '/srv', '--set wins over everything');
  t.is(v.RUN_DIRECTORY, '/run', 'computed default wins over defaultValues');
  t.is(v.ETCD_PORT, '2380');
  t.is(v.EXTRA, 'x', 'defaultValues fill what nothing else sets');
  t.is(v.NUM, '3');
});

test('PIDFILE follows a --set RUN_DIRECTORY', (t) => {
  t.is(computeValues({ ...base, set: { RUN_DIRECTORY: '/run/user/1000' } }).PIDFILE, '/run/user/1000/container-etcd.pid');
});

test('--set RUNTIME is used in the start/stop commands', (t) => {
  t.is(computeValues({ ...base, set: { RUNTIME: '/opt/crun' } }).EXEC_START, `/opt/crun run --pid-file ${base.destDir}/container.pid --bundle ${base.destDir} etcd`);
});

test('UUID is kept across updates, new otherwise', (t) => {
  const first = computeValues(base).UUID;
  t.is(computeValues({ ...base, previousUuid: first }).UUID, first);
  t.not(computeValues(base).UUID, first);
  t.is(computeValues({ ...base, previousUuid: first, set: { UUID: 'mine' } }).UUID, 'mine', '--set still wins');
});

test('defaultValues cannot set installer variables', (t) => {
  const v = computeValues({ ...base, defaultValues: { NAME: 'evil', DESTDIR: '/', EXEC_START: '/bin/sh' } });
  t.is(v.NAME, 'etcd');
  t.is(v.DESTDIR, base.destDir);
  t.regex(v.EXEC_START ?? '', /^\/usr\/sbin\/runc run/);
});

for (const variable of installerVariables) {
  test(`--set ${variable} is refused`, (t) => {
    const error = t.throws(() => validateSetValues({ [variable]: 'x' }), { message: new RegExp(`--set ${variable}: .*cannot be overridden`) });
    t.is((error as { code?: string }).code, 'EINVAL');
  });
}

for (const [label, value] of [
  ['newline', 'a\nExecStartPre=/bin/evil'],
  ['carriage return', 'a\rb'],
  ['NUL', 'a\u0000b'],
  ['escape', '\u001b[31m'],
  ['DEL', 'a\u007f'],
] as const) {
  test(`a --set value with a ${label} is refused`, (t) => {
    t.throws(() => validateSetValues({ PORT: value }), { message: /--set PORT: value contains a newline or another control character/ });
  });
}

test('parseSetArguments splits at the first =', (t) => {
  t.deepEqual(parseSetArguments(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' });
});

test('parseSetArguments rejects malformed arguments', (t) => {
  t.throws(() => parseSetArguments(['novalue']), { message: /expected KEY=VALUE/ });
  t.throws(() => parseSetArguments(['=x']), { message: /expected KEY=VALUE/ });
  t.throws(() => parseSetArguments(['1A=x']), { message: /not a variable name/ });
  t.throws(() => parseSetArguments(['NAME=x']), { message: /cannot be overridden/ });
});
