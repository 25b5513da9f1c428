// Image reference parsing, qualification and formatting, table-driven.
import test from 'ava';
import { SyscontainerError } from '../../common/errors.js';
import { formatReference, parseReference, qualifyReference, type ImageReference } from '../../store/oci/reference.js';

const digest = `sha256:${'a'.repeat(64)}`;

const parses = test.macro({
  exec(t, input: string, expected: ImageReference) {
    t.deepEqual(parseReference(input), expected);
  },
  title: (_provided, input: string) => `parses ${input.length > 60 ? `${input.slice(0, 60)}…` : input}`,
});

test(parses, 'busybox', { repository: 'busybox' });
test(parses, 'busybox:1.36', { repository: 'busybox', tag: '1.36' });
test(parses, 'gscrivano/spc-etcd', { repository: 'gscrivano/spc-etcd' });
test(parses, 'docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox' });
test(parses, 'index.docker.io/gscrivano/etcd:v1', { registry: 'docker.io', repository: 'gscrivano/etcd', tag: 'v1' });
test(parses, 'localhost/foo', { registry: 'localhost', repository: 'foo' });
test(parses, 'localhost:5000/foo/bar:latest', { registry: 'localhost:5000', repository: 'foo/bar', tag: 'latest' });
test(parses, '127.0.0.1:5000/foo:latest', { registry: '127.0.0.1:5000', repository: 'foo', tag: 'latest' });
test(parses, '[::1]:5000/foo', { registry: '[::1]:5000', repository: 'foo' });
test(parses, 'quay.io/a/b/c:tag_1.x-y', { registry: 'quay.io', repository: 'a/b/c', tag: 'tag_1.x-y' });
test(parses, `foo@${digest}`, { repository: 'foo', digest });
test(parses, `reg.example:443/foo:1@${digest}`, { registry: 'reg.example:443', repository: 'foo', tag: '1', digest });
test(parses, 'Registry/foo', { registry: 'Registry', repository: 'foo' });
test(parses, 'a__b/c-d--e/f.g', { repository: 'a__b/c-d--e/f.g' });

const rejects = test.macro({
  exec(t, input: string, why: RegExp) {
    const error = t.throws(() => parseReference(input));
    t.true(error instanceof SyscontainerError);
    t.is((error as SyscontainerError).code, 'EREFERENCE');
    t.regex(error!.message, why);
    t.notRegex(error!.message, /\n/);
  },
  title: (_provided, input: string) => `rejects ${JSON.stringify(input.slice(0, 60))}`,
});

test(rejects, '', /empty/);
test(rejects, 'Foo', /must be lowercase/);
test(rejects, 'quay.io/Foo/bar', /must be lowercase/);
test(rejects, 'foo:', /invalid tag/);
test(rejects, 'foo:-bad', /invalid tag/);
test(rejects, `foo:${'a'.repeat(129)}`, /invalid tag/);
test(rejects, 'foo@sha256:abc', /64 lowercase hex/);
test(rejects, `foo@sha512:${'a'.repeat(128)}`, /unsupported digest algorithm "sha512"/);
test(rejects, 'foo@latest', /is not a digest/);
test(rejects, 'foo//bar', /empty path component/);
test(rejects, 'foo/-bar', /invalid repository path component "-bar"/);
test(rejects, 'foo/', /empty path component/);
test(rejects, 'docker://foo', /invalid/);
test(rejects, 'bad_host.example:99999999/foo', /invalid registry/);
test(rejects, 'a'.repeat(64), /64-character hex/);
test(rejects, `x.io/${'a/'.repeat(130)}b`, /longer than 255/);
test(rejects, 'foo\nbar', /invalid/);

test('qualifyReference: a fully-qualified name is its own only candidate, tag defaulted', (t) => {
  const conf = { unqualifiedSearchRegistries: ['quay.io'], aliases: {} };
  t.deepEqual(qualifyReference(parseReference('127.0.0.1:5000/foo'), conf), [{ registry: '127.0.0.1:5000', repository: 'foo', tag: 'latest' }]);
  t.deepEqual(qualifyReference(parseReference(`x.io/foo@${digest}`), conf), [{ registry: 'x.io', repository: 'foo', digest }]);
});

test('qualifyReference: short names go through every search registry, with library/ on docker.io', (t) => {
  const conf = { unqualifiedSearchRegistries: ['registry.fedoraproject.org', 'docker.io'], aliases: {} };
  t.deepEqual(qualifyReference(parseReference('busybox:1'), conf), [
    { registry: 'registry.fedoraproject.org', repository: 'busybox', tag: '1' },
    { registry: 'docker.io', repository: 'library/busybox', tag: '1' },
  ]);
  t.deepEqual(qualifyReference(parseReference('gscrivano/etcd'), { unqualifiedSearchRegistries: ['docker.io'], aliases: {} }), [
    { registry: 'docker.io', repository: 'gscrivano/etcd', tag: 'latest' },
  ]);
});

test('qualifyReference: an alias wins over the search list and keeps the tag', (t) => {
  const conf = { unqualifiedSearchRegistries: ['docker.io'], aliases: { fedora: 'registry.fedoraproject.org/fedora' } };
  t.deepEqual(qualifyReference(parseReference('fedora:40'), conf), [{ registry: 'registry.fedoraproject.org', repository: 'fedora', tag: '40' }]);
});

test('qualifyReference: no search registries is a clear error', (t) => {
  const error = t.throws(() => qualifyReference(parseReference('busybox'), { unqualifiedSearchRegistries: [], aliases: {} }));
  t.regex(error!.message, /short name and no unqualified-search-registries/);
});

test('formatReference round-trips', (t) => {
  for (const input of ['docker.io/library/busybox:latest', `quay.io/a/b:1@${digest}`, `x.io/foo@${digest}`, '127.0.0.1:5000/foo:latest', 'foo']) {
    t.is(formatReference(parseReference(input)), input);
  }
  t.is(formatReference(qualifyReference(parseReference('busybox'), { unqualifiedSearchRegistries: ['docker.io'], aliases: {} })[0]!), 'docker.io/library/busybox:latest');
});
