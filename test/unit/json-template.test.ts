// renderJsonTemplate: values inside JSON strings are escaped (no injection), values outside
// strings stay raw (Atomic's $ADDTL_MOUNTS), `$$` and unset variables as in renderAtomicTemplate.
import test from 'ava';
import { renderJsonTemplate } from '../../runtime/atomic-template.js';

const template = '{"args": ["/bin/app", "$ARG"], "env": ["X=${ARG}", "ESC=\\"$ARG\\""], "mounts": [$ADDTL_MOUNTS {"destination": "/proc"}], "cost": "$$5"}';

test('a value inside a string stays one string, whatever it holds', (t) => {
  const hostile = 'x", "CAP_SYS_ADMIN\\ \u00e9 {"a":1}';
  const out = JSON.parse(renderJsonTemplate(template, { ARG: hostile, ADDTL_MOUNTS: '' }, 'config.json.template')) as { args: string[]; env: string[]; cost: string };
  t.deepEqual(out.args, ['/bin/app', hostile]);
  t.deepEqual(out.env, [`X=${hostile}`, `ESC="${hostile}"`]);
  t.is(out.cost, '$5');
});

test('a value outside any string is inserted raw (JSON fragments, as Atomic images use them)', (t) => {
  const out = JSON.parse(renderJsonTemplate(template, { ARG: 'a', ADDTL_MOUNTS: '{"destination": "/data", "source": "/srv"},' }, 'f')) as { mounts: { destination: string }[] };
  t.deepEqual(out.mounts.map((m) => m.destination), ['/data', '/proc']);
});

test('an unset variable names the file and line', (t) => {
  t.throws(() => renderJsonTemplate('{\n"a": "$MISSING"}', {}, 'config.json.template'), { message: "config.json.template:2: variable MISSING is not set (unreplaced value for: 'MISSING')" });
});
