import test from 'ava';
import { renderAtomicTemplate, renderUnitTemplate, templateVariables } from '../../runtime/atomic-template.js';
import { isSyscontainerError } from '../../common/errors.js';

const values = { NAME: 'etcd', DESTDIR: '/var/lib/containers/atomic/etcd.0', ADDTL_MOUNTS: ', {"destination": "/x"}' };

const renders = test.macro((t, template: string, expected: string) => {
  t.is(renderAtomicTemplate(template, values, 'service.template'), expected);
});

test('bare $VAR', renders, 'Description=$NAME', 'Description=etcd');
test('braced ${VAR} next to text', renders, '${NAME}_data', 'etcd_data');
test('bare name ends at a non-name character', renders, '$DESTDIR/rootfs', '/var/lib/containers/atomic/etcd.0/rootfs');
test('$$ is a literal $', renders, 'cost $$5 and $$NAME', 'cost $5 and $NAME');
test('$ before a non-name stays', renders, 'a $ b $1 ${', 'a $ b $1 ${');
test('values are inserted raw (JSON fragments)', renders, '[{"a": 1}$ADDTL_MOUNTS]', '[{"a": 1}, {"destination": "/x"}]');
test('a value holding $ is not expanded again', (t) => {
  t.is(renderAtomicTemplate('$A', { A: '$NAME' }, 'f'), '$NAME');
});

test('an unset variable names itself, the file and the line', (t) => {
  const error = t.throws(() => renderAtomicTemplate('[Unit]\nDescription=$NAME\nExecStart=$EXEC_MISSING\n', values, 'service.template'));
  t.true(isSyscontainerError(error));
  t.is((error as { code?: string }).code, 'ETEMPLATE');
  t.regex(error.message, /service\.template:3: variable EXEC_MISSING is not set/);
});

test('an unset braced variable is an error too', (t) => {
  t.throws(() => renderAtomicTemplate('${NOPE}', values, 'f'), { message: /variable NOPE is not set/ });
});

test('templateVariables lists each variable once, in order', (t) => {
  t.deepEqual(templateVariables('$A ${B} $$C $A $D_1'), ['A', 'B', 'D_1']);
});

test('a unit template gets % in values doubled, so systemd never expands a specifier from a value', (t) => {
  const unit = renderUnitTemplate('[Service]\nEnvironment="GREETING=$GREETING"\nExecStart=/bin/app %n\n', { GREETING: '100% of %h' }, 'service.template');
  t.is(unit, '[Service]\nEnvironment="GREETING=100%% of %%h"\nExecStart=/bin/app %n\n');
});
