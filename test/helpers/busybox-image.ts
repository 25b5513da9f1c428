// A tiny image for runtime tests that do not need the OSTree store: a rootfs made of the
// host's static busybox, and a store stand-in whose checkout copies it. Needs /bin/busybox
// (Debian package busybox-static, installed by scripts/setup-host.sh).
import { cp, mkdir, symlink, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import type { ImageConfig } from '../../store/oci-types.js';
import type { RuntimeImage, RuntimeImageStore } from '../../runtime/context.js';

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

/** A store stand-in holding `images` by name; `set` replaces an image (as a new pull would). */
export function busyboxStore(images: TestImage[] = []): RuntimeImageStore<TestImage> & { set(image: TestImage): void } {
  const byName = new Map(images.map((i) => [i.name, i]));
  return {
    set: (image) => void byName.set(image.name, image),
    getImage: async (name) => byName.get(name),
    checkoutImage: async (image, dest) => makeBusyboxRootfs(dest, image.files),
  };
}
