// registries.d (merging, scope lookup, lookaside URLs), where the policy is looked for, and
// what `trust show` says when there is none.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyscontainerError } from '../../common/errors.js';
import { parseReference } from '../../store/oci/reference.js';
import { dockerPolicyImage } from '../../store/trust/policy-scope.js';
import { describeTrust } from '../../store/trust/policy-summary.js';
import { loadRegistriesD, lookasideSignatureUrl, signatureStorageFor } from '../../store/trust/registries-d.js';
import { trustSettings } from '../../store/trust/trust-settings.js';

async function registriesD(t: ExecutionContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-registries-d-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const builtin = 'file:///var/lib/containers/sigstore';

test('the most specific docker scope with a lookaside wins; then default-docker; then the built-in directory', async (t) => {
  const dir = await registriesD(t, {
    'a.yaml': 'docker:\n  registry.example.com:\n    lookaside: https://sigs.example.com/lookaside\n  registry.example.com/team:\n    use-sigstore-attachments: true\n',
    'b.yaml': 'default-docker:\n  lookaside: file:///srv/lookaside\n  lookaside-staging: file:///srv/staging\n',
    'ignored.conf': 'not: [yaml',
  });
  const config = await loadRegistriesD(dir, builtin);
  const storage = (input: string) => signatureStorageFor(config, dockerPolicyImage(parseReference(input)));
  const team = storage('registry.example.com/team/app:1');
  t.is(team.lookaside.href, 'https://sigs.example.com/lookaside/team/app', 'team has no lookaside: the host section supplies it, the repository path appended');
  t.true(team.useSigstoreAttachments);
  t.false(storage('registry.example.com/other:1').useSigstoreAttachments);
  t.is(storage('quay.io/foo/bar:1').lookaside.href, 'file:///srv/lookaside/foo/bar');
  t.is(storage('quay.io/foo/bar:1').staging.href, 'file:///srv/staging/foo/bar');
  t.is(lookasideSignatureUrl(team.lookaside, `sha256:${'a'.repeat(64)}`, 2).href, `https://sigs.example.com/lookaside/team/app@sha256=${'a'.repeat(64)}/signature-2`);
  const empty = await loadRegistriesD(join(dir, 'missing'), builtin);
  t.is(signatureStorageFor(empty, dockerPolicyImage(parseReference('quay.io/x:1'))).lookaside.href, `${builtin}/x`);
});

test('a scope configured in two files, or two default-docker sections, is refused naming both files', async (t) => {
  const twice = await registriesD(t, { 'a.yaml': 'docker:\n  quay.io:\n    lookaside: file:///a\n', 'b.yaml': 'docker:\n  quay.io:\n    lookaside: file:///b\n' });
  const error = await t.throwsAsync(loadRegistriesD(twice, builtin));
  t.regex(error!.message, /docker scope "quay\.io" is defined in both .*a\.yaml and .*b\.yaml/);
  const defaults = await registriesD(t, { 'a.yaml': 'default-docker:\n  lookaside: file:///a\n', 'b.yaml': 'default-docker:\n  lookaside: file:///b\n' });
  t.regex((await t.throwsAsync(loadRegistriesD(defaults, builtin)))!.message, /"default-docker" is defined in both/);
  const bad = await registriesD(t, { 'a.yaml': 'docker:\n  quay.io:\n    use-sigstore-attachments: maybe\n' });
  t.regex((await t.throwsAsync(loadRegistriesD(bad, builtin)))!.message, /a\.yaml: docker\.quay\.io\.use-sigstore-attachments/);
  const scheme = await loadRegistriesD(await registriesD(t, { 'a.yaml': 'default-docker:\n  lookaside: ftp://example.com/x\n' }), builtin);
  const refused = t.throws(() => signatureStorageFor(scheme, dockerPolicyImage(parseReference('quay.io/x:1'))));
  t.true(refused instanceof SyscontainerError);
  t.regex(refused!.message, /lookaside ftp: URLs are not supported/);
});

test('policy lookup: --signature-policy, else ~/.config for non-root only, else /etc; registries.d likewise', (t) => {
  t.deepEqual(trustSettings({ uid: 0, home: '/root' }).policySearch, ['/etc/containers/policy.json']);
  t.deepEqual(trustSettings({ uid: 1000, home: '/home/op' }).policySearch, ['/home/op/.config/containers/policy.json', '/etc/containers/policy.json']);
  t.deepEqual(trustSettings({ uid: 1000, home: '/home/op' }).registriesDirs, ['/home/op/.config/containers/registries.d', '/etc/containers/registries.d']);
  t.is(trustSettings({ uid: 1000, home: '/home/op' }).builtinLookaside, 'file:///home/op/.local/share/containers/sigstore');
  const explicit = trustSettings({ uid: 0, home: '/root', signaturePolicy: '/tmp/p.json', registriesD: '/tmp/r.d' });
  t.is(explicit.policyFile, '/tmp/p.json');
  t.deepEqual(explicit.registriesDirs, ['/tmp/r.d']);
});

test('trust show without any policy says that nothing is verified', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-no-policy-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const settings = { ...trustSettings({ uid: 0 }), policySearch: [join(dir, 'policy.json')] };
  t.deepEqual(await describeTrust(settings), { policy: null, verified: false, searched: [join(dir, 'policy.json')], scopes: [] });
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const summary = await describeTrust(settings);
  t.true(summary.verified);
  t.deepEqual(summary.scopes, [{ transport: 'default', scope: '', name: 'default', requirements: [{ type: 'insecureAcceptAnything' }] }]);
});
