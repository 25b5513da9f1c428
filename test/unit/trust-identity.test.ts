// signedIdentity rules: which claimed identities each accepts for which image.
import test from 'ava';
import { parseReference } from '../../store/oci/reference.js';
import { identityMatches } from '../../store/trust/identity-match.js';
import type { IdentityRule } from '../../store/trust/policy.js';

const digest = `sha256:${'b'.repeat(64)}`;

const matches = test.macro({
  exec(t, rule: IdentityRule, image: string | undefined, claimed: string, expected: boolean) {
    t.is(identityMatches(rule, image === undefined ? undefined : parseReference(image), claimed), expected);
  },
  title: (_provided, rule: IdentityRule, image: string | undefined, claimed: string, expected: boolean) =>
    `${rule.type}${'prefix' in rule ? ` ${rule.prefix}→${rule.signedPrefix}` : ''}: ${image ?? '(no docker identity)'} signed as ${claimed} is ${expected ? 'accepted' : 'refused'}`,
});

const exact: IdentityRule = { type: 'matchExact' };
const repoDigestOrExact: IdentityRule = { type: 'matchRepoDigestOrExact' };
const repository: IdentityRule = { type: 'matchRepository' };

test(matches, exact, '127.0.0.1:5000/etcd:3', '127.0.0.1:5000/etcd:3', true);
test(matches, exact, '127.0.0.1:5000/etcd:3', '127.0.0.1:5000/etcd:4', false);
test(matches, exact, '127.0.0.1:5000/etcd:3', '127.0.0.1:5000/etcd', false);
test(matches, exact, `127.0.0.1:5000/etcd@${digest}`, '127.0.0.1:5000/etcd:3', false);
test(matches, exact, 'docker.io/library/busybox:1', 'busybox:1', true);

test(matches, repoDigestOrExact, '127.0.0.1:5000/etcd:3', '127.0.0.1:5000/etcd:3', true);
test(matches, repoDigestOrExact, '127.0.0.1:5000/etcd:3', '127.0.0.1:5000/etcd:latest', false);
test(matches, repoDigestOrExact, '127.0.0.1:5000/etcd:3', '127.0.0.1:5000/other:3', false);
test(matches, repoDigestOrExact, `127.0.0.1:5000/etcd@${digest}`, '127.0.0.1:5000/etcd:3', true);
test(matches, repoDigestOrExact, `127.0.0.1:5000/etcd@${digest}`, '127.0.0.1:5000/other:3', false);
test(matches, repoDigestOrExact, `127.0.0.1:5000/etcd@${digest}`, '127.0.0.1:5000/etcd', false);

test(matches, repository, '127.0.0.1:5000/etcd:latest', '127.0.0.1:5000/etcd:3.5', true);
test(matches, repository, '127.0.0.1:5000/etcd:latest', '127.0.0.1:5000/etcd', true);
test(matches, repository, '127.0.0.1:5000/etcd:latest', '127.0.0.1:5001/etcd:latest', false);

test(matches, { type: 'exactReference', dockerReference: 'vendor.example/etcd:3' }, 'mirror.local/etcd:anything', 'vendor.example/etcd:3', true);
test(matches, { type: 'exactReference', dockerReference: 'vendor.example/etcd:3' }, 'mirror.local/etcd:anything', 'vendor.example/etcd:4', false);
test(matches, { type: 'exactReference', dockerReference: 'vendor.example/etcd:3' }, undefined, 'vendor.example/etcd:3', true);
test(matches, { type: 'exactRepository', dockerRepository: 'vendor.example/etcd' }, 'mirror.local/etcd:1', 'vendor.example/etcd:7', true);
test(matches, { type: 'exactRepository', dockerRepository: 'vendor.example/etcd' }, 'mirror.local/etcd:1', 'vendor.example/etcdctl:7', false);
test(matches, exact, undefined, '127.0.0.1:5000/etcd:3', false);

const remap: IdentityRule = { type: 'remapIdentity', prefix: 'mirror.local:5000/vendor', signedPrefix: 'vendor.example' };
test(matches, remap, 'mirror.local:5000/vendor/etcd:3', 'vendor.example/etcd:3', true);
test(matches, remap, 'mirror.local:5000/vendor/etcd:3', 'mirror.local:5000/vendor/etcd:3', false);
test(matches, remap, 'mirror.local:5000/vendor/etcd:3', 'vendor.example/etcd:4', false);
test(matches, remap, `mirror.local:5000/vendor/etcd@${digest}`, 'vendor.example/etcd:4', true);
test(matches, remap, 'mirror.local:5000/vendorx/etcd:3', 'vendor.example/x/etcd:3', false);
test(matches, remap, 'other.local/etcd:3', 'other.local/etcd:3', true);

test('a claim that is not a reference matches nothing', (t) => {
  t.false(identityMatches(repository, parseReference('127.0.0.1:5000/etcd:1'), 'Not A Reference'));
});
