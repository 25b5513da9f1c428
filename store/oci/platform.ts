// Platforms (os/arch/variant) in OCI terms: the host's, one given as `--platform`, and the
// rule for whether an index entry fits.
import { SyscontainerError } from '../../common/errors.js';
import type { Platform } from './oci-types.js';

export type { Platform } from './oci-types.js';

const archFromNode: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  ia32: '386',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

/** The platform images are pulled for by default: linux plus the host's architecture. */
export function hostPlatform(): Platform {
  const architecture = archFromNode[process.arch] ?? process.arch;
  const platform: Platform = { os: 'linux', architecture };
  if (architecture === 'arm') {
    const version = (process.config.variables as { arm_version?: string }).arm_version;
    platform.variant = `v${version && /^\d+$/.test(version) ? version : '7'}`;
  }
  return platform;
}

/** `linux/arm64/v8`, `linux/amd64`, `arm64` (os defaults to linux). Throws EINVAL. */
export function parsePlatform(input: string): Platform {
  const parts = input.trim().split('/');
  const ok = (s: string | undefined): s is string => s !== undefined && /^[a-z0-9_.-]+$/i.test(s);
  let platform: Platform;
  if (parts.length === 1 && ok(parts[0])) platform = { os: 'linux', architecture: parts[0].toLowerCase() };
  else if ((parts.length === 2 || parts.length === 3) && ok(parts[0]) && ok(parts[1]) && (parts.length === 2 || ok(parts[2]))) {
    platform = { os: parts[0].toLowerCase(), architecture: parts[1].toLowerCase() };
    if (parts[2] !== undefined) platform.variant = parts[2].toLowerCase();
  } else {
    throw new SyscontainerError('EINVAL', `invalid platform "${input.replace(/[^\x20-\x7e]/g, '?')}": expected os/arch[/variant]`);
  }
  return normalisePlatform(platform);
}

/** Aliases folded into OCI names (x86_64 → amd64, aarch64 → arm64, arm defaults to v7). */
export function normalisePlatform(platform: Platform): Platform {
  const aliases: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', i686: '386', armhf: 'arm', armel: 'arm' };
  const out: Platform = { ...platform, architecture: aliases[platform.architecture] ?? platform.architecture };
  if (out.architecture === 'arm' && out.variant === undefined) {
    out.variant = platform.architecture === 'armel' ? 'v6' : 'v7';
  }
  return out;
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter((s) => s !== undefined && s !== '').join('/');
}

/**
 * Whether an image for `candidate` runs on `wanted`. The os and architecture must be equal;
 * the variant must be equal when both give one, except that arm64 `v8` equals no variant.
 * When `wanted` has no variant any variant is accepted (arm excepted: it defaults to v7).
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalisePlatform(wanted);
  const c = normalisePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  const variant = (p: Platform): string | undefined => (p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant || undefined);
  const wv = variant(w);
  const cv = variant(c);
  if (wv === undefined) return true;
  if (cv === undefined) return w.architecture === 'arm64';
  return wv === cv;
}
