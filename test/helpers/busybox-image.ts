// A tiny image for runtime tests that do not need the OSTree store: a rootfs made of the
// host's static busybox, and a store stand-in whose image rootfs copies it. Needs /bin/busybox
// (Debian package busybox-static, installed by scripts/setup-host.sh).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cp, mkdir, rm, symlink, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import type { ImageConfig } from '../../store/oci/oci-types.js';
import type { RuntimeImage, RuntimeImageStore } from '../../runtime/context.js';
import { testRoot } from './systemd-harness.js';

export const busyboxPath = '/bin/busybox';
const applets = ['sh', 'sleep', 'cat', 'echo', 'touch', 'ls', 'id', 'ps', 'kill', 'mkdir', 'rm', 'true', 'false', 'printf', 'grep', 'test'];

/** Builds a busybox rootfs in `dest` (which must not exist), with /etc/passwd and the given extra files. */
export async function makeBusyboxRootfs(dest: string, extra: Record<string, string> = {}): Promise<void> {
  await access(busyboxPath).catch(() => {
    throw new Error(`${busyboxPath} is missing: install Debian's busybox-static (scripts/setup-host.sh does)`);
  });
  await mkdir(path.join(dest, 'bin'), { recursive: true });
  await cp(busyboxPath, path.join(dest, 'bin', 'busybox'));
  for (const applet of applets) await symlink('busybox', path.join(dest, 'bin', applet));
  for (const dir of ['etc', 'tmp', 'run', 'proc', 'sys', 'dev', 'var/lib']) await mkdir(path.join(dest, dir), { recursive: true });
  await writeFile(path.join(dest, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nsvc:x:1000:1000::/:/bin/false\n');
  await writeFile(path.join(dest, 'etc', 'group'), 'root:x:0:\nsvc:x:1000:\n');
  for (const [name, content] of Object.entries(extra)) {
    await mkdir(path.dirname(path.join(dest, name)), { recursive: true });
    await writeFile(path.join(dest, name), content);
  }
}

export interface TestImage extends RuntimeImage {
  files?: Record<string, string>;
}

let counter = 0;

/** An image record with the given command and config; digests are unique per call. */
export function testImage(name: string, config: NonNullable<ImageConfig['config']>, files?: Record<string, string>): TestImage {
  counter += 1;
  const hex = (n: number) => n.toString(16).padStart(64, '0');
  return {
    name,
    configDigest: `sha256:${hex(counter * 2)}`,
    manifestDigest: `sha256:${hex(counter * 2 + 1)}`,
    config: { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] } },
    files,
  };
}

/** Where stand-in stores keep their shared rootfs (one per image id), removed when the tests end. */
let rootfsParent: string | undefined;
function sharedRootfsParent(): string {
  if (rootfsParent === undefined) {
    // Under testRoot: the systemd harness sees it there (it has a /tmp of its own).
    mkdirSync(testRoot, { recursive: true, mode: 0o755 });
    const dir = mkdtempSync(path.join(testRoot, 'shared-rootfs-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    rootfsParent = dir;
  }
  return rootfsParent;
}

/**
 * A store stand-in holding `images` by name; `set` replaces an image (as a new pull would).
 * Each image's shared rootfs is made by `make` (default: a busybox rootfs with its files), and
 * released as the real store does: when no image has its id and nothing uses it.
 */
export function busyboxStore(
  images: TestImage[] = [],
  make: (image: TestImage, dir: string) => Promise<void> = (image, dir) => makeBusyboxRootfs(dir, image.files),
): RuntimeImageStore<TestImage> & { set(image: TestImage): void } {
  const byName = new Map(images.map((i) => [i.name, i]));
  const rootfsOf = (image: { configDigest: string }) => path.join(sharedRootfsParent(), image.configDigest.replace('sha256:', ''));
  return {
    set: (image) => void byName.set(image.name, image),
    getImage: async (name) => byName.get(name),
    withRootfs: async (image, body) => {
      const dir = rootfsOf(image);
      if (!existsSync(dir)) await make(image, dir);
      return body(dir);
    },
    releaseRootfs: async (configDigest, inUse) => {
      const dir = rootfsOf({ configDigest });
      if ([...byName.values()].some((image) => image.configDigest === configDigest) || (await inUse(dir))) return;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
