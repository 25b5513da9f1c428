// Real signers for the trust tests: OpenPGP keys made by gpg in a private GNUPGHOME (batch,
// no passphrase) and simple-signing signatures made by skopeo (`copy --sign-by`,
// `standalone-sign`), written where registries.d's lookaside says. Sigstore signatures: the
// skopeo and podman in Debian are built with sigstore signing disabled ("Debian-local change:
// sigstore disabled"), so they are made here by the format cosign and containers/image write
// (the claim as a layer of the `sha256-HEX.sig` manifest, an ECDSA P-256 signature of it in the
// dev.cosignproject.cosign/signature annotation), with node:crypto, pushed to the real registry.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';

export interface GpgKey {
  home: string;
  fingerprint: string;
  /** `gpg --export` of the public key (a binary keyring, as in /etc/pki/containers). */
  publicKeyring: string;
}

/** A new ed25519 signing key in its own GNUPGHOME under `dir`. Call stopGpgAgent(key) when done. */
export async function makeGpgKey(dir: string, name: string): Promise<GpgKey> {
  const home = join(dir, `gnupg-${name}`);
  await mkdir(home, { mode: 0o700 });
  const env = { GNUPGHOME: home };
  await execa('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', `${name} <${name}@trust.test>`, 'ed25519', 'sign', 'never'], { env });
  const listing = (await execa('gpg', ['--batch', '--with-colons', '--list-keys'], { env })).stdout;
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
  if (fingerprint === undefined) throw new Error(`gpg made no key for ${name}: ${listing}`);
  const publicKeyring = join(dir, `${name}.gpg`);
  // stripFinalNewline: execa drops a final 0x0a from binary output too, and one key in 256 has a
  // signature whose last byte is 0x0a: that keyring came out a byte short ("Unexpected end of
  // packet" in a session-4 clean-clone run and again in session 5).
  const exported = await execa('gpg', ['--batch', '--export', fingerprint], { env, encoding: 'buffer', stripFinalNewline: false });
  await writeFile(publicKeyring, exported.stdout);
  // Checked here all the same, so a bad export fails the setup naming its bytes instead of
  // failing a test about policies.
  const { readKeys } = await import('openpgp');
  await readKeys({ binaryKeys: exported.stdout }).catch((error: Error) => {
    throw new Error(`gpg --export of ${name} (${exported.stdout.length} bytes, ${Buffer.from(exported.stdout.subarray(0, 16)).toString('hex')}…) is not a keyring: ${error.message}`);
  });
  return { home, fingerprint, publicKeyring };
}

/** gpg starts an agent per GNUPGHOME; it is stopped by its own tool, for that home only. */
export async function stopGpgAgent(key: GpgKey): Promise<void> {
  await execa('gpgconf', ['--kill', 'gpg-agent'], { env: { GNUPGHOME: key.home }, reject: false });
}

export interface SkopeoCopy {
  from: string;
  to: string;
  /** registries.d with the lookaside (staging) skopeo writes signatures to. */
  registriesD: string;
  signBy?: GpgKey;
  /** --sign-identity: the name the signature claims (default: the destination). */
  signIdentity?: string;
}

/** skopeo copy with an accept-anything policy of its own (the host's policy is not ours to use). */
export async function skopeoCopy(dir: string, copy: SkopeoCopy): Promise<void> {
  const policy = join(dir, 'skopeo-policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const args = ['--policy', policy, '--registries.d', copy.registriesD, 'copy', '--quiet', '--dest-tls-verify=false'];
  if (copy.signBy) args.push('--sign-by', copy.signBy.fingerprint);
  if (copy.signIdentity) args.push('--sign-identity', copy.signIdentity);
  await execa('skopeo', [...args, copy.from, copy.to], { env: copy.signBy ? { GNUPGHOME: copy.signBy.home } : {} });
}

/** `skopeo standalone-sign`: a signature claiming `identity` for the manifest in `manifestFile`. */
export async function standaloneSign(key: GpgKey, manifestFile: string, identity: string, output: string): Promise<void> {
  await execa('skopeo', ['standalone-sign', '--output', output, manifestFile, identity, key.fingerprint], { env: { GNUPGHOME: key.home } });
}

/** Where skopeo and containers/image keep signature N of `digest` for REPO under a lookaside directory. */
export function lookasidePath(lookaside: string, repository: string, digest: string, index = 1): string {
  return join(lookaside, `${repository}@${digest.replace(':', '=')}`, `signature-${index}`);
}

export interface SigstoreKey {
  privateKey: KeyObject;
  /** PEM public key file, as policy.json's keyPath names it. */
  publicKeyFile: string;
}

export async function makeSigstoreKey(dir: string, name: string): Promise<SigstoreKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyFile = join(dir, `${name}.pub`);
  await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicKeyFile };
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Writes the sigstore attachment of `manifestDigest` in `repository` on `registryHost`: one
 * signature per claim, each signed by its key (cosign's layout; `optional` as containers/image
 * writes it). `claim` may be overridden to sign something else than the image.
 */
export async function pushSigstoreSignatures(
  registryHost: string,
  repository: string,
  manifestDigest: string,
  signatures: { key: SigstoreKey; identity: string; claimedDigest?: string }[],
): Promise<void> {
  const push = new RegistryPush({ registry: registryHost, conf: defaultRegistriesConf() });
  const layers = [];
  for (const { key, identity, claimedDigest } of signatures) {
    const payload = Buffer.from(
      JSON.stringify({
        critical: { identity: { 'docker-reference': identity }, image: { 'docker-manifest-digest': claimedDigest ?? manifestDigest }, type: 'cosign container image signature' },
        optional: { creator: 'syscontainer tests', timestamp: Math.floor(Date.now() / 1000) },
      }),
    );
    const descriptor = { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha256(payload), size: payload.length };
    await push.uploadBlob(repository, descriptor, payload);
    layers.push({ ...descriptor, annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, key.privateKey).toString('base64') } });
  }
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) } }));
  const configDescriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length };
  await push.uploadBlob(repository, configDescriptor, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDescriptor, layers }));
  await push.putManifest(repository, `${manifestDigest.replace(':', '-')}.sig`, manifest, 'application/vnd.oci.image.manifest.v1+json');
}
