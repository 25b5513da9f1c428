// containers-policy.json parsing (strict, fields named) and scope precedence.
import test from 'ava';
import { SyscontainerError } from '../../common/errors.js';
import { parseReference } from '../../store/oci/reference.js';
import { parsePolicy, type Policy } from '../../store/trust/policy.js';
import { dockerPolicyImage, pathPolicyImage, requirementsFor } from '../../store/trust/policy-scope.js';

const accept = [{ type: 'insecureAcceptAnything' }];
const signed = (keyPath: string, extra: Record<string, unknown> = {}) => [{ type: 'signedBy', keyType: 'GPGKeys', keyPath, ...extra }];

const refused = test.macro({
  exec(t, doc: unknown, message: RegExp) {
    const error = t.throws(() => parsePolicy(typeof doc === 'string' ? doc : JSON.stringify(doc), '/etc/containers/policy.json'));
    t.true(error instanceof SyscontainerError);
    t.is((error as SyscontainerError).code, 'ECONFIG');
    t.regex(error!.message, /^policy \/etc\/containers\/policy\.json: /);
    t.regex(error!.message, message);
  },
  title: (provided = '') => `refuses ${provided}`,
});

test('a policy that is not JSON', refused, '{"default": [', /not valid JSON/);
test('a policy without default', refused, { transports: {} }, /default: is missing/);
test('an unknown top-level key', refused, { default: accept, transport: {} }, /unknown key "transport"/);
test('an unknown key in a requirement, naming where', refused, { default: accept, transports: { docker: { '127.0.0.1:5000': signed('/k.gpg', { keyPth: '/x' }) } } }, /transports\.docker\["127\.0\.0\.1:5000"\]\[0\]: unknown key "keyPth"/);
test('an unknown key in signedIdentity', refused, { default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'matchExact', strict: true } }] }, /default\[0\]\.signedIdentity: unknown key "strict"/);
test('an unknown requirement type', refused, { default: [{ type: 'acceptEverything' }] }, /default\[0\]\.type: unknown requirement type "acceptEverything"/);
test('an unknown signedIdentity type', refused, { default: signed('/k', { signedIdentity: { type: 'matchAnything' } }) }, /unknown signedIdentity type "matchAnything"/);
test('an empty requirement list', refused, { default: [] }, /default: the list of requirements must not be empty/);
test('signedBy with two key sources', refused, { default: signed('/k', { keyData: 'AAAA' }) }, /exactly one of keyPath, keyPaths, keyData may be given \(got keyPath and keyData\)/);
test('signedBy with no key', refused, { default: [{ type: 'signedBy', keyType: 'GPGKeys' }] }, /one of keyPath, keyPaths, keyData is required/);
test('signedBy without keyType', refused, { default: [{ type: 'signedBy', keyPath: '/k' }] }, /default\[0\]\.keyType: is missing/);
test('signedBy with an unknown keyType', refused, { default: [{ type: 'signedBy', keyType: 'PGP', keyPath: '/k' }] }, /default\[0\]\.keyType/);
test('keyData that is not base64', refused, { default: [{ type: 'signedBy', keyType: 'GPGKeys', keyData: 'not base64!' }] }, /keyData: not base64/);
test('a string where a list belongs', refused, { default: { type: 'reject' } }, /default: must be a list of requirements/);
test('exactReference without a tag', refused, { default: signed('/k', { signedIdentity: { type: 'exactReference', dockerReference: 'example.com/foo' } }) }, /dockerReference: not a reference with a tag or digest/);
test('a remapIdentity prefix with a tag', refused, { default: signed('/k', { signedIdentity: { type: 'remapIdentity', prefix: 'mirror.local/ns:1', signedPrefix: 'example.com' } }) }, /prefix: not a host/);
test('sigstoreSigned with a key and fulcio', refused, { default: [{ type: 'sigstoreSigned', keyPath: '/k.pub', fulcio: { caPath: '/ca', oidcIssuer: 'x', subjectEmail: 'y' } }] }, /exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki/);
test('a relative oci scope', refused, { default: accept, transports: { oci: { 'images/etcd': accept } } }, /transports\.oci\["images\/etcd"\]: invalid scope: must be an absolute path/);
test('a docker-archive scope other than ""', refused, { default: accept, transports: { 'docker-archive': { '/srv/a.tar': accept } } }, /only the default scope/);

test('parses every requirement and identity rule', (t) => {
  const policy = parsePolicy(
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          'a.example/x': signed('/k1'),
          'b.example/x': [{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: ['/k1', '/k2'], signedIdentity: { type: 'matchExact' } }],
          'c.example/x': [{ type: 'signedBy', keyType: 'GPGKeys', keyData: Buffer.from('key').toString('base64'), signedIdentity: { type: 'matchRepository' } }],
          'd.example/x': signed('/k', { signedIdentity: { type: 'exactReference', dockerReference: 'docker.io/library/busybox:1' } }),
          'e.example/x': signed('/k', { signedIdentity: { type: 'exactRepository', dockerRepository: 'docker.io/library/busybox' } }),
          'f.example/x': signed('/k', { signedIdentity: { type: 'remapIdentity', prefix: 'mirror.local:5000/vendor', signedPrefix: 'docker.io/library' } }),
          'g.example/x': [{ type: 'sigstoreSigned', keyPath: '/cosign.pub' }, ...accept],
          'h.example/x': [{ type: 'sigstoreSigned', fulcio: { caPath: '/ca', oidcIssuer: 'https://issuer', subjectEmail: 'a@b' }, rekorPublicKeyPath: '/rekor.pub' }],
        },
        atomic: { 'whatever/we:do-not-read': accept },
      },
    }),
    'p',
  );
  const docker = policy.transports.docker!;
  t.deepEqual(docker['a.example/x'], [{ type: 'signedBy', keyType: 'GPGKeys', keys: { keyPath: '/k1' }, signedIdentity: { type: 'matchRepoDigestOrExact' } }]);
  t.deepEqual(docker['b.example/x']![0], { type: 'signedBy', keyType: 'GPGKeys', keys: { keyPaths: ['/k1', '/k2'] }, signedIdentity: { type: 'matchExact' } });
  t.deepEqual(docker['c.example/x']![0], { type: 'signedBy', keyType: 'GPGKeys', keys: { keyData: Buffer.from('key') }, signedIdentity: { type: 'matchRepository' } });
  t.deepEqual(docker['f.example/x']![0]!.type === 'signedBy' && docker['f.example/x']![0]!.signedIdentity, { type: 'remapIdentity', prefix: 'mirror.local:5000/vendor', signedPrefix: 'docker.io/library' });
  t.deepEqual(docker['g.example/x']!.map((r) => r.type), ['sigstoreSigned', 'insecureAcceptAnything']);
  t.deepEqual(docker['h.example/x']![0], { type: 'sigstoreSigned', keys: undefined, unsupported: ['fulcio', 'rekorPublicKeyPath'], signedIdentity: { type: 'matchRepoDigestOrExact' } });
});

test('the most specific docker scope wins, then the transport default, then default', (t) => {
  const mark = (name: string) => [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: `/${name}` }];
  const policy: Policy = parsePolicy(
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          '': mark('transport'),
          'registry.example.com:5000': mark('host'),
          'registry.example.com:5000/ns': mark('namespace'),
          'registry.example.com:5000/ns/app': mark('repository'),
          'registry.example.com:5000/ns/app:1': mark('tag'),
          '*.example.com': mark('wildcard'),
        },
      },
    }),
    'p',
  );
  const scopeOf = (input: string) => {
    const found = requirementsFor(policy, dockerPolicyImage(parseReference(input)));
    const first = found.requirements[0]!;
    return `${found.scope} → ${first.type === 'signedBy' && 'keyPath' in first.keys ? first.keys.keyPath : first.type}`;
  };
  t.is(scopeOf('registry.example.com:5000/ns/app:1'), 'docker:registry.example.com:5000/ns/app:1 → /tag');
  t.is(scopeOf('registry.example.com:5000/ns/app:2'), 'docker:registry.example.com:5000/ns/app → /repository');
  t.is(scopeOf(`registry.example.com:5000/ns/app@sha256:${'a'.repeat(64)}`), 'docker:registry.example.com:5000/ns/app → /repository');
  t.is(scopeOf('registry.example.com:5000/ns/other'), 'docker:registry.example.com:5000/ns → /namespace');
  t.is(scopeOf('registry.example.com:5000/elsewhere'), 'docker:registry.example.com:5000 → /host');
  t.is(scopeOf('registry.example.com/elsewhere'), 'docker:*.example.com → /wildcard');
  t.is(scopeOf('quay.io/foo/bar'), 'docker (transport default) → /transport');
  const withoutTransportDefault = parsePolicy(JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: {} } }), 'p');
  t.is(requirementsFor(withoutTransportDefault, dockerPolicyImage(parseReference('quay.io/foo/bar'))).scope, 'default');
});

test('OCI layout scopes are the path and its parents, not "/"', (t) => {
  t.deepEqual(pathPolicyImage('oci', '/srv/images/etcd').namespaces, ['/srv/images/etcd', '/srv/images', '/srv']);
  const policy = parsePolicy(JSON.stringify({ default: [{ type: 'reject' }], transports: { oci: { '/srv/images': accept } } }), 'p');
  t.is(requirementsFor(policy, pathPolicyImage('oci', '/srv/images/etcd')).scope, 'oci:/srv/images');
  t.is(requirementsFor(policy, pathPolicyImage('oci', '/tmp/etcd')).scope, 'default');
  t.is(requirementsFor(policy, pathPolicyImage('oci-archive', '/srv/images/etcd.tar')).scope, 'default');
});
