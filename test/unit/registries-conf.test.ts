// registries.conf parsing: v2 tables, v1 lists, drop-ins, prefix matching, errors.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SyscontainerError } from '../../common/errors.js';
import { loadRegistriesConf, registryFor } from '../../store/registry/registries-conf.js';

async function confDir(t: import('ava').ExecutionContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-regconf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

test('a missing file means the defaults', async (t) => {
  const dir = await confDir(t, {});
  const conf = await loadRegistriesConf(join(dir, 'registries.conf'));
  t.deepEqual(conf.unqualifiedSearchRegistries, ['docker.io']);
  t.deepEqual(conf.registries, []);
  t.deepEqual(conf.files, []);
  t.deepEqual(registryFor(conf, 'quay.io/foo'), { location: 'quay.io/foo', insecure: false, blocked: false, mirrors: [] });
});

test('v2 tables: prefix, location rewrite, insecure, blocked, mirrors', async (t) => {
  const dir = await confDir(t, {
    'registries.conf': `
unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]

[[registry]]
prefix = "example.com/foo"
location = "internal.example.com/bar"
insecure = true

[[registry.mirror]]
location = "mirror.example.com:5000/cache"
insecure = true

[[registry.mirror]]
location = "mirror2.example.com"
pull-from-mirror = "digest-only"

[[registry]]
location = "blocked.example"
blocked = true

[[registry]]
prefix = "*.corp.example"
insecure = true
[[registry.mirror]]
location = "cache.corp.example/proxy"
`,
  });
  const conf = await loadRegistriesConf(join(dir, 'registries.conf'));
  t.deepEqual(conf.unqualifiedSearchRegistries, ['registry.fedoraproject.org', 'docker.io']);
  t.deepEqual(registryFor(conf, 'example.com/foo/app'), {
    prefix: 'example.com/foo',
    location: 'internal.example.com/bar/app',
    insecure: true,
    blocked: false,
    mirrors: [
      { location: 'mirror.example.com:5000/cache/app', insecure: true, pullFromMirror: 'all' },
      { location: 'mirror2.example.com/app', insecure: false, pullFromMirror: 'digest-only' },
    ],
  });
  t.is(registryFor(conf, 'example.com/foobar/app').prefix, undefined, 'prefixes match whole path components');
  t.true(registryFor(conf, 'blocked.example/x').blocked);
  t.true(registryFor(conf, 'blocked.example').blocked);
  t.true(registryFor(conf, 'reg.corp.example:5000/x').insecure);
  t.false(registryFor(conf, 'corp.example/x').insecure);
  t.deepEqual(registryFor(conf, 'reg.corp.example/team/app').mirrors, [{ location: 'cache.corp.example/proxy/team/app', insecure: false, pullFromMirror: 'all' }]);
  t.is(registryFor(conf, 'reg.corp.example/team/app').location, 'reg.corp.example/team/app');
});

test('drop-ins are read in name order; later entries replace same-prefix ones', async (t) => {
  const dir = await confDir(t, {
    'registries.conf': 'unqualified-search-registries = ["a.example"]\n[[registry]]\nlocation = "127.0.0.1:5000"\n',
    'registries.conf.d/10-first.conf': 'unqualified-search-registries = ["b.example"]\n',
    'registries.conf.d/20-second.conf': '[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = true\n[aliases]\n"etcd" = "quay.io/coreos/etcd"\n',
    'registries.conf.d/ignored.txt': 'this is not toml',
  });
  const conf = await loadRegistriesConf(join(dir, 'registries.conf'));
  t.deepEqual(conf.unqualifiedSearchRegistries, ['b.example']);
  t.is(conf.registries.length, 1);
  t.true(registryFor(conf, '127.0.0.1:5000/foo').insecure);
  t.is(conf.aliases['etcd'], 'quay.io/coreos/etcd');
  t.deepEqual(conf.files.map((f) => f.slice(dir.length + 1)), ['registries.conf', 'registries.conf.d/10-first.conf', 'registries.conf.d/20-second.conf']);
});

test('the v1 format is understood', async (t) => {
  const dir = await confDir(t, {
    'registries.conf': "[registries.search]\nregistries = ['quay.io']\n[registries.insecure]\nregistries = ['my.reg:5000']\n[registries.block]\nregistries = ['bad.reg']\n",
  });
  const conf = await loadRegistriesConf(join(dir, 'registries.conf'));
  t.deepEqual(conf.unqualifiedSearchRegistries, ['quay.io']);
  t.true(registryFor(conf, 'my.reg:5000/x').insecure);
  t.true(registryFor(conf, 'bad.reg/x').blocked);
});

const malformed = test.macro(async (t, text: string, why: RegExp) => {
  const dir = await confDir(t, { 'registries.conf': text });
  const file = join(dir, 'registries.conf');
  const error = await t.throwsAsync(loadRegistriesConf(file));
  t.true(error instanceof SyscontainerError);
  t.is((error as SyscontainerError).code, 'ECONFIG');
  t.true(error!.message.startsWith(`registries configuration ${file} is malformed: `), error!.message);
  t.regex(error!.message, why);
  t.notRegex(error!.message, /\n/);
});

test('malformed: not TOML', malformed, '[[registry]\nlocation=', /./);
test('malformed: wrong type', malformed, '[[registry]]\nlocation = "x"\ninsecure = "yes"\n', /registry\.0\.insecure/);
test('malformed: registry without prefix or location', malformed, '[[registry]]\ninsecure = true\n', /neither prefix nor location/);
test('malformed: bad wildcard', malformed, '[[registry]]\nprefix = "foo.*.com"\n', /invalid prefix/);
test('malformed: v1 mixed with v2', malformed, 'unqualified-search-registries = ["x"]\n[registries.search]\nregistries = ["y"]\n', /mixes the v1/);
