// Where `push SOURCE DEST` sends an image: parseDestination is pure, so every DEST form is
// checked here without a registry.
import test from 'ava';
import { parseDestination } from '../../store/push/push-image.js';

const conf = { unqualifiedSearchRegistries: ['registry.example:5000', 'docker.io'] };

test('a fully-qualified reference is used as it is; the tag defaults to latest', (t) => {
  t.deepEqual(parseDestination('127.0.0.1:5000/team/app:v2', conf), {
    kind: 'registry',
    registry: '127.0.0.1:5000',
    repository: 'team/app',
    tag: 'v2',
    display: '127.0.0.1:5000/team/app:v2',
  });
  t.like(parseDestination('quay.io/team/app', conf), { registry: 'quay.io', repository: 'team/app', tag: 'latest', display: 'quay.io/team/app:latest' });
});

test('a short name goes to the first unqualified-search registry only', (t) => {
  t.like(parseDestination('app:1', conf), { kind: 'registry', registry: 'registry.example:5000', repository: 'app', tag: '1' });
  t.like(parseDestination('busybox', { unqualifiedSearchRegistries: ['docker.io'] }), { registry: 'docker.io', repository: 'library/busybox' });
});

test('oci:DIR[:TAG] is a layout destination', (t) => {
  t.deepEqual(parseDestination('oci:/tmp/out:v1', conf), { kind: 'layout', dir: '/tmp/out', tag: 'v1', display: 'oci:/tmp/out:v1' });
  t.like(parseDestination('oci:/tmp/out', conf), { kind: 'layout', tag: undefined });
});

const refused = test.macro((t, input: string, unqualified: string[], fault: RegExp) => {
  const error = t.throws(() => parseDestination(input, { unqualifiedSearchRegistries: unqualified }));
  t.is((error as { code?: string }).code, 'EREFERENCE');
  t.true(error!.message.includes(input), error!.message);
  t.regex(error!.message, fault);
  t.false(error!.message.includes('\n'));
});

test('refused: a digest', refused, `quay.io/a/b@sha256:${'a'.repeat(64)}`, ['docker.io'], /names a digest/);
test('refused: an archive', refused, 'oci-archive:/tmp/x.tar', ['docker.io'], /only oci:DIR/);
test('refused: upper case repository', refused, 'quay.io/Bad/Name', ['docker.io'], /lowercase/);
test('refused: a short name with no search registry', refused, 'app', [], /short name/);
