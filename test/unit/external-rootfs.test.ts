// install --rootfs PATH as Atomic resolved it, and the mount points checked instead of made:
// a rootfs given by --rootfs belongs to someone else and is never written to.
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { missingMountPoints, resolveExternalRootfs } from '../../runtime/external-rootfs.js';
import type { OciRuntimeSpec } from '../../runtime/oci-runtime-spec.js';

async function dir(t: ExecutionContext): Promise<string> {
  const made = await mkdtemp(path.join(tmpdir(), 'syscontainer-external-rootfs-'));
  t.teardown(() => rm(made, { recursive: true, force: true }));
  return made;
}

test('PATH/rootfs when it exists, through symlinks; else PATH when it holds usr/', async (t) => {
  const base = await dir(t);
  // Another container's deployment (ROOT/OTHER.0 with rootfs/ linking to the image's rootfs) and its link ROOT/OTHER.
  await mkdir(path.join(base, 'image-rootfs', 'usr'), { recursive: true });
  await mkdir(path.join(base, 'other.0'));
  await symlink(path.join(base, 'image-rootfs'), path.join(base, 'other.0', 'rootfs'));
  await symlink('other.0', path.join(base, 'other'));
  t.is(await resolveExternalRootfs(path.join(base, 'other.0')), path.join(base, 'image-rootfs'));
  t.is(await resolveExternalRootfs(path.join(base, 'other')), path.join(base, 'image-rootfs'));
  t.is(await resolveExternalRootfs(path.join(base, 'image-rootfs')), path.join(base, 'image-rootfs'), 'PATH itself, as it holds usr/');
});

test('a PATH with neither rootfs/ nor usr/, a file or nothing at all is refused naming it', async (t) => {
  const base = await dir(t);
  await mkdir(path.join(base, 'empty'));
  await writeFile(path.join(base, 'file'), '');
  await t.throwsAsync(resolveExternalRootfs(path.join(base, 'empty')), { message: /^--rootfs .*\/empty: holds no rootfs \(neither .*\/empty\/rootfs nor a usr\/ directory\)$/ });
  await t.throwsAsync(resolveExternalRootfs(path.join(base, 'file')), { message: /^--rootfs .*\/file: no such directory$/ });
  await t.throwsAsync(resolveExternalRootfs(path.join(base, 'missing')), { message: /^--rootfs .*\/missing: no such directory$/ });
});

test('missing mount points are listed, not made; one inside another mount is not needed', async (t) => {
  const rootfs = await dir(t);
  await mkdir(path.join(rootfs, 'usr'));
  await mkdir(path.join(rootfs, 'proc'));
  const spec = {
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
      { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf' },
    ],
  } as unknown as OciRuntimeSpec;
  t.deepEqual(await missingMountPoints(rootfs, spec), ['/dev', '/etc/resolv.conf']);
  t.deepEqual((await readdir(rootfs)).sort(), ['proc', 'usr'], 'nothing written into the rootfs');
});
