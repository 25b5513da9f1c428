// Signature verification end to end: images pushed to a real docker-registry, signed by real
// signers (gpg keys, skopeo copy --sign-by and standalone-sign into a lookaside directory;
// sigstore attachments in cosign's format), pulled by the CLI under containers-policy.json
// files. What a user checks: the exit status, the one-line reason, that a refused image
// leaves nothing in the store (no ref, no layer, no rootfs), and what `images info` records.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildImage, type BuiltImage } from '../../images/build/image.js';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import {
  lookasidePath,
  makeGpgKey,
  makeSigstoreKey,
  pushSigstoreSignatures,
  skopeoCopy,
  standaloneSign,
  stopGpgAgent,
  type GpgKey,
  type SigstoreKey,
} from '../helpers/signing.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry, { tools: ['gpg', 'gpgconf', 'skopeo'] });

let dir: string;
let registry: RegistryServer;
let mirror: RegistryServer;
let hostile: http.Server;
const hostileStats = { bigBytes: 0, manyRequests: 0 };
let ops: GpgKey;
let other: GpgKey;
let cosign: SigstoreKey;
let cosignOther: SigstoreKey;
let registriesD: string;
let lookaside: string;
let layout: string;
const images = new Map<string, BuiltImage>();

const names = ['app', 'unsigned', 'otherkey', 'wrongdigest', 'elsewhere', 'truncated', 'garbage', 'hostile-big', 'hostile-many', 'sig', 'sig-otherkey', 'sig-identity', 'mirrored', 'mirror-copy'] as const;
type Name = (typeof names)[number];
const ref = (name: string, tag = '1') => `${registry.host}/${name}:${tag}`;
const digestOf = (name: Name) => images.get(name)!.manifestDigest;

async function startHostileLookaside(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/big/') && url.endsWith('/signature-1')) {
      // A gigabyte, sent chunked (no length to refuse it by) as fast as the client takes it.
      res.writeHead(200);
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      const pump = () => {
        while (hostileStats.bigBytes < 1024 ** 3 && !res.destroyed) {
          hostileStats.bigBytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      return pump();
    }
    if (url.startsWith('/many/')) {
      hostileStats.manyRequests++;
      return void res.writeHead(200).end(randomBytes(64));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'syscontainer-trust-'));
  [registry, mirror, hostile] = await Promise.all([startRegistry(), startRegistry(), startHostileLookaside()]);
  [ops, other, cosign, cosignOther] = await Promise.all([makeGpgKey(dir, 'ops'), makeGpgKey(dir, 'other'), makeSigstoreKey(dir, 'cosign'), makeSigstoreKey(dir, 'cosign-other')]);
  lookaside = join(dir, 'lookaside');
  registriesD = join(dir, 'registries.d');
  await mkdir(registriesD);
  const port = (hostile.address() as AddressInfo).port;
  await writeFile(
    join(registriesD, 'trust-test.yaml'),
    [
      'docker:',
      `  ${registry.host}:`,
      `    lookaside: file://${lookaside}`,
      '    use-sigstore-attachments: true',
      `  ${registry.host}/hostile-big:`,
      `    lookaside: http://127.0.0.1:${port}/big`,
      `  ${registry.host}/hostile-many:`,
      `    lookaside: http://127.0.0.1:${port}/many`,
      `  ${mirror.host}:`,
      `    lookaside: file://${join(dir, 'mirror-lookaside')}`,
      '',
    ].join('\n'),
  );
  // One small image per case (distinct content, distinct digests), in one OCI layout.
  layout = join(dir, 'layout');
  for (const name of names) {
    images.set(name, await buildImage({ config: { Cmd: ['/bin/true'] }, layers: [{ entries: [{ type: 'file', path: 'etc/case', content: `${name}\n` }] }] }));
  }
  await writeOciLayout(layout, names.map((name) => ({ image: images.get(name)!, tag: name })));
  const copy = (name: Name, to: string, extra: Partial<Parameters<typeof skopeoCopy>[1]> = {}) => skopeoCopy(dir, { from: `oci:${layout}:${name}`, to: `docker://${to}`, registriesD, ...extra });
  await copy('app', ref('app'), { signBy: ops });
  await copy('otherkey', ref('otherkey'), { signBy: other });
  // Signed by the right key, but claiming another repository.
  await copy('elsewhere', ref('elsewhere'), { signBy: ops, signIdentity: ref('app') });
  await copy('mirrored', ref('mirrored'), { signBy: ops });
  for (const name of ['unsigned', 'wrongdigest', 'truncated', 'garbage', 'hostile-big', 'hostile-many', 'sig', 'sig-otherkey', 'sig-identity'] as const) await copy(name, ref(name));
  // The mirror serves another image under the signed tag.
  await copy('mirror-copy', `${mirror.host}/mirrored:1`);
  // A genuine signature by the right key and for the right name, but of another manifest.
  const appManifest = join(dir, 'app-manifest.json');
  await writeFile(appManifest, images.get('app')!.manifestBytes);
  const wrong = lookasidePath(lookaside, 'wrongdigest', digestOf('wrongdigest'));
  await mkdir(dirname(wrong), { recursive: true });
  await standaloneSign(ops, appManifest, ref('wrongdigest'), wrong);
  // Cut and garbage signatures where valid ones would be.
  const genuine = await readFile(lookasidePath(lookaside, 'app', digestOf('app')));
  for (const [name, bytes] of [['truncated', genuine.subarray(0, Math.floor(genuine.length / 2))], ['garbage', randomBytes(genuine.length)]] as const) {
    const path = lookasidePath(lookaside, name, digestOf(name));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }
  // Sigstore attachments: by the trusted key, by another key, and for another name.
  await pushSigstoreSignatures(registry.host, 'sig', digestOf('sig'), [{ key: cosign, identity: ref('sig') }]);
  await pushSigstoreSignatures(registry.host, 'sig-otherkey', digestOf('sig-otherkey'), [{ key: cosignOther, identity: ref('sig-otherkey') }]);
  await pushSigstoreSignatures(registry.host, 'sig-identity', digestOf('sig-identity'), [{ key: cosign, identity: ref('sig') }]);
});

test.after.always(async () => {
  await Promise.all([registry?.stop(), mirror?.stop(), ops && stopGpgAgent(ops), other && stopGpgAgent(other)]);
  await new Promise<void>((resolve) => (hostile ? hostile.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  root: string;
  policy: string;
  run(...args: string[]): Promise<CliResult>;
}

/** A fresh store and a policy file for one test; `conf` is a registries.conf to use. */
async function setup(t: Parameters<typeof tempDir>[0], policy: unknown, conf?: string): Promise<Run> {
  const root = await tempDir(t, 'syscontainer-trust-root-');
  const config = await tempDir(t, 'syscontainer-trust-config-');
  const policyFile = join(config, 'policy.json');
  await writeFile(policyFile, typeof policy === 'string' ? policy : JSON.stringify(policy));
  const env: Record<string, string> = {};
  if (conf !== undefined) {
    env.SYSCONTAINER_REGISTRIES_CONF = join(config, 'registries.conf');
    await writeFile(env.SYSCONTAINER_REGISTRIES_CONF, conf);
  }
  return { root, policy: policyFile, run: (...args) => runCli(['--root', root, '--signature-policy', policyFile, '--registries.d', registriesD, ...args], env) };
}

const signedBy = (key: GpgKey, signedIdentity?: unknown) => [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: key.publicKeyring, ...(signedIdentity ? { signedIdentity } : {}) }];
const onlyRegistry = (requirements: unknown) => ({ default: [{ type: 'reject' }], transports: { docker: { [registry.host]: requirements } } });

/** What a refused pull must leave: nothing under the store (no ref, no layer, no rootfs). */
async function storeIsEmpty(root: string): Promise<string[]> {
  const leftovers: string[] = [];
  const repo = join(root, '.storage', 'ostree');
  if (existsSync(repo)) {
    const refs = (await execa('ostree', ['refs', `--repo=${repo}`])).stdout.trim();
    if (refs !== '') leftovers.push(`refs: ${refs.replace(/\n/g, ', ')}`);
  }
  const rootfs = join(root, '.storage', 'rootfs');
  if (existsSync(rootfs) && (await readdir(rootfs)).length > 0) leftovers.push(`rootfs: ${(await readdir(rootfs)).join(', ')}`);
  return leftovers;
}

const refused = test.macro({
  async exec(t, name: Name, policy: () => unknown, reason: () => RegExp) {
    const { root, run } = await setup(t, policy());
    const result = await run('pull', ref(name));
    t.is(result.exitCode, 1, result.stdout);
    t.regex(result.stderr, new RegExp(`^error: image ${ref(name).replace(/[.]/g, '\\.')}: `));
    t.regex(result.stderr, reason());
    t.is(result.stderr.trim().split('\n').length, 1, 'one line');
    t.deepEqual(await storeIsEmpty(root), []);
  },
  title: (provided = '') => `refused, leaving nothing stored: ${provided}`,
});

const accepted = test.macro({
  async exec(t, name: Name, policy: () => unknown, identity: () => string) {
    const { run } = await setup(t, policy());
    const result = await run('pull', ref(name));
    t.is(result.exitCode, 0, result.stderr);
    t.is(result.stdout.trim(), digestOf(name));
    const info = JSON.parse((await run('images', 'info', '--json', ref(name))).stdout) as { digest: string; trust: { digest: string; signatures: { identity: string; key: string }[] } };
    t.is(info.trust.digest, digestOf(name), 'the verified digest is the one recorded');
    t.is(info.digest, digestOf(name));
    t.deepEqual(info.trust.signatures.map((signature) => signature.identity), [identity()]);
  },
  title: (provided = '') => `accepted: ${provided}`,
});

test('a signed image under signedBy is stored with who signed it; images verify re-checks it against today’s policy', async (t) => {
  const { run, policy } = await setup(t, onlyRegistry(signedBy(ops)));
  const pulled = await run('pull', ref('app'));
  t.is(pulled.exitCode, 0, pulled.stderr);
  t.is(pulled.stdout.trim(), digestOf('app'));
  t.regex(pulled.stderr, new RegExp(`signed by ${ops.fingerprint} as ${ref('app').replace(/[.]/g, '\\.')}`));
  const info = JSON.parse((await run('images', 'info', '--json', ref('app'))).stdout) as { trust: { scope: string; digest: string; signatures: { type: string; identity: string; key: string; keySource: string }[] } };
  t.is(info.trust.scope, `docker:${registry.host}`);
  t.is(info.trust.digest, digestOf('app'));
  t.deepEqual(info.trust.signatures, [{ type: 'signedBy', identity: ref('app'), key: ops.fingerprint, keySource: ops.publicKeyring }]);
  const text = await run('images', 'info', ref('app'));
  t.regex(text.stdout, new RegExp(`^Signatures: signed by ${ops.fingerprint} \\(${ops.publicKeyring}\\) as ${ref('app').replace(/[.]/g, '\\.')}`, 'm'));

  const verify = await run('images', 'verify', ref('app'));
  t.is(verify.exitCode, 0, verify.stdout + verify.stderr);
  t.regex(verify.stdout, /: ok$/m);
  // Today the policy trusts another key only: the stored image no longer passes.
  await writeFile(policy, JSON.stringify(onlyRegistry(signedBy(other))));
  const again = await run('images', 'verify', ref('app'));
  t.is(again.exitCode, 1, again.stderr);
  t.log(again.stderr);
  t.regex(again.stdout, new RegExp(`signatures: no signature by a key in ${other.publicKeyring}.*signed by key [0-9A-F]+, which is not in the keyring`));
});

test('unsigned', refused, 'unsigned', () => onlyRegistry(signedBy(ops)), () => new RegExp(`no signature by a key in ${ops.publicKeyring} \\(policy scope docker:${registry.host}\\): no signatures \\(none at file://${lookaside}/unsigned@sha256=[0-9a-f]{64}/signature-1\\)`));
test('signed by another key', refused, 'otherkey', () => onlyRegistry(signedBy(ops)), () => /signature 1: signed by key [0-9A-F]{16}, which is not in the keyring/);
test('a signature for another digest', refused, 'wrongdigest', () => onlyRegistry(signedBy(ops)), () => /signature 1: by key [0-9A-F]{40}, but signs manifest sha256:[0-9a-f]{12}…, not the one fetched \(sha256:[0-9a-f]{12}…\)/);
test('a truncated signature', refused, 'truncated', () => onlyRegistry(signedBy(ops)), () => /signature 1: (not an OpenPGP message|unreadable OpenPGP message|bad signature)/);
test('a garbage signature', refused, 'garbage', () => onlyRegistry(signedBy(ops)), () => /signature 1: (not an OpenPGP message|unreadable OpenPGP message)/);
test('a reject scope', refused, 'app', () => ({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { [`${registry.host}/app`]: [{ type: 'reject' }] } } }), () => new RegExp(`rejected by the signature policy \\(policy scope docker:${registry.host}/app\\)$`, 'm'));

// `elsewhere` is signed by the trusted key but claims to be `app`.
const claimsApp = (rule: string | (() => string)) => () => new RegExp(`signed as ${ref('app').replace(/[.]/g, '\\.')}, which signedIdentity ${typeof rule === 'string' ? rule : rule()} does not accept for ${ref('elsewhere').replace(/[.]/g, '\\.')}`);
test('another repository’s identity, matchRepoDigestOrExact (default)', refused, 'elsewhere', () => onlyRegistry(signedBy(ops)), claimsApp('matchRepoDigestOrExact'));
test('another repository’s identity, matchExact', refused, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'matchExact' })), claimsApp('matchExact'));
test('another repository’s identity, matchRepository', refused, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'matchRepository' })), claimsApp('matchRepository'));
test('another repository’s identity, exactReference', refused, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'exactReference', dockerReference: ref('app', '2') })), claimsApp(() => `exactReference ${ref('app', '2')}`));
test('another repository’s identity, exactRepository', refused, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'exactRepository', dockerRepository: `${registry.host}/nothere` })), claimsApp(() => `exactRepository ${registry.host}/nothere`));
test('another repository’s identity, remapIdentity', refused, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'remapIdentity', prefix: `${registry.host}/elsewhere`, signedPrefix: `${registry.host}/nothere` })), claimsApp(() => `remapIdentity ${registry.host}/elsewhere → ${registry.host}/nothere`));
test('exactReference naming the signed identity', accepted, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'exactReference', dockerReference: ref('app') })), () => ref('app'));
test('exactRepository naming the signed repository', accepted, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'exactRepository', dockerRepository: `${registry.host}/app` })), () => ref('app'));
test('remapIdentity onto the signed name', accepted, 'elsewhere', () => onlyRegistry(signedBy(ops, { type: 'remapIdentity', prefix: `${registry.host}/elsewhere`, signedPrefix: `${registry.host}/app` })), () => ref('app'));

test('the most specific scope wins: image, repository, host, then the transport default, then default', async (t) => {
  const { run } = await setup(t, {
    default: [{ type: 'reject' }],
    transports: {
      docker: {
        [registry.host]: [{ type: 'insecureAcceptAnything' }],
        [`${registry.host}/unsigned`]: [{ type: 'reject' }],
        [`${registry.host}/app`]: signedBy(ops),
        [`${registry.host}/otherkey:1`]: signedBy(ops),
      },
    },
  });
  const host = await run('pull', ref('garbage'));
  t.is(host.exitCode, 0, `${registry.host} accepts anything: ${host.stderr}`);
  const repository = await run('pull', ref('unsigned'));
  t.regex(repository.stderr, new RegExp(`rejected by the signature policy \\(policy scope docker:${registry.host}/unsigned\\)`));
  const tag = await run('pull', ref('otherkey'));
  t.regex(tag.stderr, new RegExp(`\\(policy scope docker:${registry.host}/otherkey:1\\)`));
  const signed = await run('pull', ref('app'));
  t.is(signed.exitCode, 0, signed.stderr);
  const fallback = await run('pull', `${mirror.host}/mirrored:1`);
  t.regex(fallback.stderr, /rejected by the signature policy \(policy scope default\)/);
});

test('a mirror serving another manifest under a signed tag is refused; the registry itself is accepted', async (t) => {
  const policy = onlyRegistry(signedBy(ops));
  // Even given the genuine signature where the mirror's digest would look for one.
  const genuine = lookasidePath(lookaside, 'mirrored', digestOf('mirrored'));
  const planted = lookasidePath(lookaside, 'mirrored', digestOf('mirror-copy'));
  await mkdir(dirname(planted), { recursive: true });
  await copyFile(genuine, planted);
  const conf = `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n[[registry.mirror]]\nlocation = "${mirror.host}"\ninsecure = true\n`;
  const through = await setup(t, policy, conf);
  const result = await through.run('pull', ref('mirrored'));
  t.is(result.exitCode, 1, result.stdout);
  t.regex(result.stderr, new RegExp(`signs manifest ${digestOf('mirrored').slice(0, 19)}…, not the one fetched \\(${digestOf('mirror-copy').slice(0, 19)}…\\)`));
  t.deepEqual(await storeIsEmpty(through.root), []);
  const direct = await setup(t, policy);
  const ok = await direct.run('pull', ref('mirrored'));
  t.is(ok.exitCode, 0, ok.stderr);
});

test('a lookaside serving a gigabyte is cut off at the signature bound', async (t) => {
  const { root, run } = await setup(t, onlyRegistry(signedBy(ops)));
  const result = await run('pull', ref('hostile-big'));
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /signature http:\/\/127\.0\.0\.1:\d+\/big\/hostile-big@sha256=[0-9a-f]{64}\/signature-1: signature is larger than 4194304 bytes$/m);
  t.true(hostileStats.bigBytes < 256 * 1024 ** 2, `the server sent ${hostileStats.bigBytes} bytes before the client closed`);
  t.deepEqual(await storeIsEmpty(root), []);
});

test('a lookaside serving thousands of signatures is refused after the bound', async (t) => {
  const { root, run } = await setup(t, onlyRegistry(signedBy(ops)));
  const result = await run('pull', ref('hostile-many'));
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /more than 128 signatures for sha256:[0-9a-f]{64} \(a broken or hostile signature server\)/);
  t.true(hostileStats.manyRequests <= 128, `${hostileStats.manyRequests} signatures were asked for`);
  t.deepEqual(await storeIsEmpty(root), []);
});

test('a policy with an unknown field is refused, naming the field, before anything is fetched', async (t) => {
  const { root, run, policy } = await setup(t, onlyRegistry([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: ops.publicKeyring, keyPth: '/x' }]));
  const result = await run('pull', ref('app'));
  t.is(result.exitCode, 1);
  t.is(result.stderr.trim(), `error: policy ${policy}: transports.docker["${registry.host}"][0]: unknown key "keyPth"`);
  t.deepEqual(await storeIsEmpty(root), []);
});

const sigstore = (key: SigstoreKey) => [{ type: 'sigstoreSigned', keyPath: key.publicKeyFile }];
test('a sigstore-signed image under sigstoreSigned', accepted, 'sig', () => onlyRegistry(sigstore(cosign)), () => ref('sig'));
test('a sigstore signature by another key', refused, 'sig-otherkey', () => onlyRegistry(sigstore(cosign)), () => new RegExp(`no sigstore signature by a key in ${cosign.publicKeyFile} .*signature 1: not signed by the key`));
test('a sigstore signature for another repository', refused, 'sig-identity', () => onlyRegistry(sigstore(cosign)), () => /signature 1: by key SHA256:[0-9a-f]{64}, but signed as .*\/sig:1, which signedIdentity matchRepoDigestOrExact does not accept/);
test('sigstoreSigned where the image has only simple signatures', refused, 'app', () => onlyRegistry(sigstore(cosign)), () => /no sigstore signature .*: no signatures \(none at tag sha256-[0-9a-f]{64}\.sig\)/);

test('OCI layouts: scoped by path; they carry no signatures, so signedBy refuses them', async (t) => {
  const accepting = await setup(t, { default: [{ type: 'reject' }], transports: { oci: { [layout]: [{ type: 'insecureAcceptAnything' }] } } });
  const ok = await accepting.run('pull', `oci:${layout}:unsigned`);
  t.is(ok.exitCode, 0, ok.stderr);
  const signing = await setup(t, { default: [{ type: 'reject' }], transports: { oci: { [dirname(layout)]: signedBy(ops) } } });
  const result = await signing.run('pull', `oci:${layout}:unsigned`);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, new RegExp(`\\(policy scope oci:${dirname(layout)}\\): no signatures \\(none at oci:${layout}: signatures are not stored there\\)`));
  t.deepEqual(await storeIsEmpty(signing.root), []);
});

test('install pulls through the same check: a refused image makes no deployment', async (t) => {
  const { root, run } = await setup(t, onlyRegistry(signedBy(ops)));
  const unitDir = await tempDir(t);
  const result = await run('install', '--system', '--no-start', '--unit-dir', unitDir, '--name', `trust-${randomBytes(3).toString('hex')}`, ref('unsigned'));
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /no signature by a key in/);
  t.deepEqual((await readdir(root)).filter((entry) => entry !== '.storage'), []);
  t.deepEqual(await readdir(unitDir), []);
});

test('trust set writes a validated policy atomically; trust show lists it; pulls follow it', async (t) => {
  const root = await tempDir(t);
  const policy = join(root, 'policy.json');
  const trust = (...args: string[]) => runCli(['--root', root, '--signature-policy', policy, '--registries.d', registriesD, ...args]);
  const set = await trust('trust', 'set', '--type', 'signedBy', '--pubkeysfile', ops.publicKeyring, `${registry.host}/app`);
  t.is(set.exitCode, 0, set.stderr);
  t.is((await trust('trust', 'set', '--type', 'reject', 'default')).exitCode, 0);
  const bad = await trust('trust', 'set', '--type', 'signedBy', '--pubkeysfile', policy, registry.host);
  t.is(bad.exitCode, 1);
  t.regex(bad.stderr, new RegExp(`key file ${policy}: not an OpenPGP keyring`));
  const short = await trust('trust', 'set', '--type', 'accept', 'busybox/x');
  t.regex(short.stderr, /scope busybox\/x: "busybox\/x" is not fully qualified/);
  t.deepEqual(JSON.parse(await readFile(policy, 'utf8')), {
    default: [{ type: 'reject' }],
    transports: { docker: { [`${registry.host}/app`]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: ops.publicKeyring }] } },
  });
  const shown = JSON.parse((await trust('trust', 'show', '--json')).stdout) as { policy: string; scopes: { name: string; requirements: { type: string; keys?: string[] }[]; lookaside?: string }[] };
  t.is(shown.policy, policy);
  t.deepEqual(
    shown.scopes.map((scope) => [scope.name, scope.requirements.map((r) => r.type).join(','), scope.lookaside ?? '']),
    [
      ['default', 'reject', ''],
      [`docker:${registry.host}/app`, 'signedBy', `file://${lookaside}`],
    ],
  );
  const table = await trust('trust', 'show');
  t.regex(table.stdout, new RegExp(`docker:${registry.host.replace(/[.]/g, '\\.')}/app +signedBy +${ops.publicKeyring}`));
  t.is((await trust('pull', ref('app'))).exitCode, 0);
  t.regex((await trust('pull', ref('unsigned'))).stderr, /rejected by the signature policy \(policy scope default\)/);
});
