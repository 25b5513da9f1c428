// The awkward test images the pull, store and checkout tests use, each a small definition
// plus what a correct checkout of it holds. Built deterministically (same digests on every
// run), written to an OCI layout or pushed to a test registry by the helpers at the end.
//
// Layer entries are written raw (not through rootfsEntries) so each fixture controls exactly
// what is in its tars: missing parent directories, `./` prefixes, whiteouts, link order.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { type BuiltImage, type BuiltIndex, buildImage, buildIndex, type ImageDefinition, type ImageFormat } from '../../images/build/image.js';
import { type LayerEntry, opaque, whiteout } from '../../images/build/layer.js';
import { writeOciLayout, type LayoutItem } from '../../images/build/oci-layout.js';
import { type PushPrimitives, type PushResult, pushBuiltImage } from '../../images/build/push-image.js';
import type { Platform } from '../../store/oci/oci-types.js';

/** What a path of a correct checkout is. Modes are permission bits incl. setuid/setgid/sticky. */
export type ExpectedPath =
  | { type: 'file'; content?: string; mode?: number; uid?: number; gid?: number; sameFileAs?: string }
  | { type: 'dir'; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; target: string };

export interface FixtureExpectation {
  /** Paths relative to the rootfs. */
  present: Record<string, ExpectedPath>;
  /** Paths that must not exist: deleted by whiteouts or hidden by an opaque directory. */
  absent: string[];
}

export interface Fixture {
  description: string;
  definition: ImageDefinition;
  expect: FixtureExpectation;
}

const file = (p: string, content: string, mode = 0o644, extra: Partial<LayerEntry> = {}): LayerEntry =>
  ({ type: 'file', path: p, content, mode, ...extra }) as LayerEntry;
const dir = (p: string, mode = 0o755, extra: Partial<LayerEntry> = {}): LayerEntry => ({ type: 'dir', path: p, mode, ...extra }) as LayerEntry;

const fixtures = {
  /** Three plain gzip layers; a later layer replaces a file of an earlier one. */
  layered: {
    description: 'three gzip layers, a file replaced by a later layer',
    definition: {
      config: { Cmd: ['/usr/bin/tool'], Env: ['PATH=/usr/bin', 'FIXTURE=layered'], WorkingDir: '/' },
      layers: [
        { entries: [dir('etc/'), file('etc/os-release', 'ID=fixture\nVERSION_ID=1\n'), dir('usr/'), dir('usr/bin/'), file('usr/bin/tool', '#!/bin/sh\necho tool\n', 0o755), dir('var/'), dir('var/log/')] },
        { entries: [dir('etc/'), file('etc/os-release', 'ID=fixture\nVERSION_ID=2\n'), file('etc/added', 'added in layer 2\n')] },
        { entries: [dir('opt/'), dir('opt/app/'), file('opt/app/data', 'layer 3\n')] },
      ],
    },
    expect: {
      present: {
        'etc/os-release': { type: 'file', content: 'ID=fixture\nVERSION_ID=2\n', mode: 0o644 },
        'etc/added': { type: 'file', content: 'added in layer 2\n' },
        'usr/bin/tool': { type: 'file', content: '#!/bin/sh\necho tool\n', mode: 0o755 },
        'var/log': { type: 'dir', mode: 0o755 },
        'opt/app/data': { type: 'file', content: 'layer 3\n' },
      },
      absent: [],
    },
  },

  /** Whiteouts of a file and of a directory, and an opaque directory. */
  whiteouts: {
    description: 'whiteout of a file and a directory; an opaque directory refilled',
    definition: {
      layers: [
        {
          entries: [
            dir('etc/'),
            file('etc/keep', 'kept\n'),
            file('etc/remove-me', 'deleted by layer 2\n'),
            dir('etc/dir-gone/'),
            file('etc/dir-gone/inner', 'deleted with its directory\n'),
            dir('opt/'),
            dir('opt/opq/'),
            file('opt/opq/old-a', 'hidden by the opaque marker\n'),
            dir('opt/opq/sub/'),
            file('opt/opq/sub/old-b', 'hidden too\n'),
          ],
        },
        {
          entries: [
            dir('etc/'),
            whiteout('etc/remove-me'),
            whiteout('etc/dir-gone'),
            dir('opt/'),
            dir('opt/opq/'),
            opaque('opt/opq'),
            file('opt/opq/new', 'after the opaque marker\n'),
          ],
        },
      ],
    },
    expect: {
      present: {
        'etc/keep': { type: 'file', content: 'kept\n' },
        'opt/opq': { type: 'dir' },
        'opt/opq/new': { type: 'file', content: 'after the opaque marker\n' },
      },
      absent: ['etc/remove-me', 'etc/dir-gone', 'opt/opq/old-a', 'opt/opq/sub', 'etc/.wh.remove-me', 'etc/.wh.dir-gone', 'opt/opq/.wh..wh..opq'],
    },
  },

  /** Hardlinks (same dir, other dir) and symlinks (relative, absolute, to a dir, dangling). */
  links: {
    description: 'hardlinks and symlinks: relative, absolute, to a directory, dangling',
    definition: {
      layers: [
        {
          entries: [
            dir('usr/'),
            dir('usr/bin/'),
            file('usr/bin/multi', 'multi-call binary\n', 0o755),
            { type: 'hardlink', path: 'usr/bin/alias', target: 'usr/bin/multi' },
            dir('usr/sbin/'),
            { type: 'hardlink', path: 'usr/sbin/alias2', target: 'usr/bin/multi' },
            { type: 'symlink', path: 'bin', target: 'usr/bin' },
            dir('etc/'),
            { type: 'symlink', path: 'etc/localtime', target: '/usr/share/zoneinfo/UTC' },
            { type: 'symlink', path: 'etc/tool', target: '../usr/bin/multi' },
            { type: 'symlink', path: 'etc/broken', target: 'nowhere' },
          ],
        },
      ],
    },
    expect: {
      present: {
        'usr/bin/multi': { type: 'file', content: 'multi-call binary\n', mode: 0o755 },
        'usr/bin/alias': { type: 'file', content: 'multi-call binary\n', mode: 0o755, sameFileAs: 'usr/bin/multi' },
        'usr/sbin/alias2': { type: 'file', content: 'multi-call binary\n', mode: 0o755, sameFileAs: 'usr/bin/multi' },
        bin: { type: 'symlink', target: 'usr/bin' },
        'etc/localtime': { type: 'symlink', target: '/usr/share/zoneinfo/UTC' },
        'etc/tool': { type: 'symlink', target: '../usr/bin/multi' },
        'etc/broken': { type: 'symlink', target: 'nowhere' },
      },
      absent: [],
    },
  },

  /** setuid/setgid root binaries, secret files, a sticky dir, files owned by another user. */
  modes: {
    description: 'setuid 4755 and setgid 2755 root binaries, 0600 and 0444 files, 1777 and 0700 dirs, uid/gid 1000',
    definition: {
      layers: [
        {
          entries: [
            dir('usr/'),
            dir('usr/bin/'),
            file('usr/bin/suid', 'setuid root\n', 0o4755),
            file('usr/bin/sgid', 'setgid\n', 0o2755),
            dir('etc/'),
            file('etc/secret', 'only root reads this\n', 0o600),
            file('etc/readonly', 'read-only\n', 0o444),
            dir('tmp/', 0o1777),
            dir('root/', 0o700),
            dir('home/'),
            dir('home/user/', 0o750, { uid: 1000, gid: 1000 }),
            file('home/user/owned', 'owned by 1000\n', 0o640, { uid: 1000, gid: 1000 }),
          ],
        },
      ],
    },
    expect: {
      present: {
        'usr/bin/suid': { type: 'file', content: 'setuid root\n', mode: 0o4755, uid: 0, gid: 0 },
        'usr/bin/sgid': { type: 'file', mode: 0o2755 },
        'etc/secret': { type: 'file', content: 'only root reads this\n', mode: 0o600 },
        'etc/readonly': { type: 'file', mode: 0o444 },
        tmp: { type: 'dir', mode: 0o1777 },
        root: { type: 'dir', mode: 0o700 },
        'home/user': { type: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
        'home/user/owned': { type: 'file', mode: 0o640, uid: 1000, gid: 1000 },
      },
      absent: [],
    },
  },

  /** A layer with no entries for parent directories (many real layers look like this). */
  'no-parents': {
    description: 'a layer without parent directory entries',
    definition: {
      layers: [{ entries: [file('a/b/c/deep.txt', 'deep\n'), file('x/y/z', 'zzz\n', 0o600), { type: 'symlink', path: 'l/m/link', target: '../../a/b/c/deep.txt' }] }],
    },
    expect: {
      present: {
        'a/b/c/deep.txt': { type: 'file', content: 'deep\n' },
        'a/b/c': { type: 'dir' },
        'x/y/z': { type: 'file', content: 'zzz\n', mode: 0o600 },
        'l/m/link': { type: 'symlink', target: '../../a/b/c/deep.txt' },
      },
      absent: [],
    },
  },

  /** Entry names with a leading `./`, as `tar -C dir .` writes them. */
  'dot-slash': {
    description: 'entry names starting with ./',
    definition: {
      layers: [{ entries: [dir('./'), dir('./etc/'), file('./etc/dotted', 'dotted\n'), { type: 'hardlink', path: './etc/dotted-link', target: './etc/dotted' }] }],
    },
    expect: {
      present: {
        'etc/dotted': { type: 'file', content: 'dotted\n' },
        'etc/dotted-link': { type: 'file', content: 'dotted\n', sameFileAs: 'etc/dotted' },
      },
      absent: [],
    },
  },

  /** Docker schema2 media types (manifest, config, gzip layers). */
  docker: {
    description: 'Docker schema2 media types',
    definition: {
      format: 'docker',
      config: { Entrypoint: ['/bin/hello'], Env: ['FIXTURE=docker'] },
      layers: [
        { entries: [dir('bin/'), file('bin/hello', 'docker hello\n', 0o755)] },
        { entries: [dir('etc/'), file('etc/docker-fixture', 'yes\n')] },
      ],
    },
    expect: {
      present: {
        'bin/hello': { type: 'file', content: 'docker hello\n', mode: 0o755 },
        'etc/docker-fixture': { type: 'file', content: 'yes\n' },
      },
      absent: [],
    },
  },

  /** A zstd layer over a gzip one, with a whiteout inside the zstd layer. */
  zstd: {
    description: 'a zstd-compressed layer (with a whiteout) over a gzip layer',
    definition: {
      layers: [
        { entries: [dir('etc/'), file('etc/base', 'gzip layer\n'), file('etc/old', 'removed by the zstd layer\n')] },
        { compression: 'zstd', entries: [dir('etc/'), file('etc/zstd', 'zstd layer\n'), whiteout('etc/old')] },
      ],
    },
    expect: {
      present: { 'etc/base': { type: 'file', content: 'gzip layer\n' }, 'etc/zstd': { type: 'file', content: 'zstd layer\n' } },
      absent: ['etc/old'],
    },
  },

  /** An uncompressed tar layer next to a gzip one. */
  uncompressed: {
    description: 'an uncompressed layer over a gzip layer',
    definition: {
      layers: [
        { entries: [dir('etc/'), file('etc/base', 'gzip layer\n')] },
        { compression: 'none', entries: [dir('etc/'), file('etc/plain', 'plain tar\n')] },
      ],
    },
    expect: {
      present: { 'etc/base': { type: 'file', content: 'gzip layer\n' }, 'etc/plain': { type: 'file', content: 'plain tar\n' } },
      absent: [],
    },
  },

  /** A layer with no entries at all (docker writes these for ENV-only steps). */
  'empty-layer': {
    description: 'an empty layer between two others',
    definition: {
      layers: [{ entries: [file('first', '1\n')] }, { entries: [] }, { entries: [file('third', '3\n')] }],
    },
    expect: {
      present: { first: { type: 'file', content: '1\n' }, third: { type: 'file', content: '3\n' } },
      absent: [],
    },
  },
} satisfies Record<string, Fixture>;

export type FixtureName = keyof typeof fixtures;
export const fixtureNames = Object.keys(fixtures) as FixtureName[];

/** A fresh copy of the fixture (callers may change it). */
export function fixture(name: FixtureName): Fixture {
  return structuredClone(fixtures[name]) as Fixture;
}

export interface PlatformFixture {
  platform: Platform;
  definition: ImageDefinition;
  expect: FixtureExpectation;
}

/** Two platforms, linux/amd64 and linux/arm64/v8, with different content. */
export function multiPlatformFixture(format: ImageFormat = 'oci'): PlatformFixture[] {
  const one = (platform: Platform, arch: string): PlatformFixture => ({
    platform,
    definition: {
      format,
      platform,
      config: { Cmd: [`/bin/only-${arch}`], Env: [`ARCH=${arch}`] },
      layers: [
        { entries: [dir('etc/'), file('etc/arch', `${arch}\n`), dir('bin/'), file(`bin/only-${arch}`, `built for ${arch}\n`, 0o755)] },
        { entries: [dir('etc/'), file('etc/common', 'same on every platform\n')] },
      ],
    },
    expect: {
      present: {
        'etc/arch': { type: 'file', content: `${arch}\n` },
        [`bin/only-${arch}`]: { type: 'file', mode: 0o755 },
        'etc/common': { type: 'file', content: 'same on every platform\n' },
      },
      absent: [arch === 'amd64' ? 'bin/only-arm64' : 'bin/only-amd64'],
    },
  });
  return [one({ architecture: 'amd64', os: 'linux' }, 'amd64'), one({ architecture: 'arm64', os: 'linux', variant: 'v8' }, 'arm64')];
}

export async function buildFixture(name: FixtureName): Promise<BuiltImage> {
  return buildImage(fixture(name).definition);
}

export async function buildMultiPlatformFixture(format: ImageFormat = 'oci'): Promise<BuiltIndex> {
  const images = [];
  for (const p of multiPlatformFixture(format)) images.push(await buildImage(p.definition));
  return buildIndex(images, format);
}

/** Tags used for the multi-platform indexes in layouts and registries. */
export const multiPlatformTags = { oci: 'multi-platform', docker: 'multi-platform-docker' } as const;

/**
 * Writes every fixture (tag = fixture name) and both multi-platform indexes (multiPlatformTags)
 * into one OCI layout at `dir`. Returns what was written, by tag.
 */
export async function writeFixtureLayout(dir: string, names: readonly FixtureName[] = fixtureNames): Promise<Map<string, BuiltImage | BuiltIndex>> {
  const built = new Map<string, BuiltImage | BuiltIndex>();
  for (const name of names) built.set(name, await buildFixture(name));
  built.set(multiPlatformTags.oci, await buildMultiPlatformFixture('oci'));
  built.set(multiPlatformTags.docker, await buildMultiPlatformFixture('docker'));
  const items: LayoutItem[] = [...built].map(([tag, image]) => ({ image, tag }));
  await writeOciLayout(dir, items);
  return built;
}

/**
 * Pushes fixtures to a registry as `<prefix>/<name>:latest` (and the indexes as
 * `<prefix>/multi-platform:latest`, `<prefix>/multi-platform-docker:latest`).
 */
export async function pushFixtures(
  registry: PushPrimitives,
  prefix: string,
  names: readonly FixtureName[] = fixtureNames,
): Promise<Map<string, { built: BuiltImage | BuiltIndex; result: PushResult }>> {
  const out = new Map<string, { built: BuiltImage | BuiltIndex; result: PushResult }>();
  const all: [string, BuiltImage | BuiltIndex][] = [];
  for (const name of names) all.push([name, await buildFixture(name)]);
  all.push([multiPlatformTags.oci, await buildMultiPlatformFixture('oci')]);
  all.push([multiPlatformTags.docker, await buildMultiPlatformFixture('docker')]);
  for (const [name, built] of all) {
    out.set(name, { built, result: await pushBuiltImage(registry, `${prefix}/${name}`, 'latest', built) });
  }
  return out;
}

export interface RootfsCheckOptions {
  /** Compare uid/gid (not meaningful in a --user checkout). Default true. */
  ownership?: boolean;
  /** Compare setuid/setgid/sticky bits too (bare-user checkouts may drop them). Default true. */
  specialBits?: boolean;
}

/**
 * Compares a checked-out rootfs with a fixture's expectation. Returns one line per
 * difference (empty: matches), so a test can `t.deepEqual(await rootfsMismatches(...), [])`
 * and see every fault at once. Also reports any whiteout file left in the tree.
 */
export async function rootfsMismatches(rootfs: string, expect: FixtureExpectation, options: RootfsCheckOptions = {}): Promise<string[]> {
  const faults: string[] = [];
  const modeMask = options.specialBits === false ? 0o777 : 0o7777;
  for (const [rel, want] of Object.entries(expect.present)) {
    const full = path.join(rootfs, rel);
    const info = await lstat(full).catch(() => undefined);
    if (info === undefined) {
      faults.push(`${rel}: missing`);
      continue;
    }
    const type = info.isSymbolicLink() ? 'symlink' : info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other';
    if (type !== want.type) {
      faults.push(`${rel}: is a ${type}, expected a ${want.type}`);
      continue;
    }
    if (want.type === 'symlink') {
      const target = await readlink(full);
      if (target !== want.target) faults.push(`${rel}: links to ${target}, expected ${want.target}`);
      continue;
    }
    if (want.mode !== undefined && (info.mode & modeMask) !== (want.mode & modeMask)) {
      faults.push(`${rel}: mode ${(info.mode & 0o7777).toString(8)}, expected ${want.mode.toString(8)}`);
    }
    if (options.ownership !== false) {
      if (want.uid !== undefined && info.uid !== want.uid) faults.push(`${rel}: uid ${info.uid}, expected ${want.uid}`);
      if (want.gid !== undefined && info.gid !== want.gid) faults.push(`${rel}: gid ${info.gid}, expected ${want.gid}`);
    }
    if (want.type === 'file') {
      if (want.content !== undefined) {
        const content = await readFile(full, 'utf8');
        if (content !== want.content) faults.push(`${rel}: content ${JSON.stringify(content)}, expected ${JSON.stringify(want.content)}`);
      }
      if (want.sameFileAs !== undefined) {
        const other = await lstat(path.join(rootfs, want.sameFileAs)).catch(() => undefined);
        if (other === undefined || other.ino !== info.ino || other.dev !== info.dev) faults.push(`${rel}: not a hardlink of ${want.sameFileAs}`);
      }
    }
  }
  for (const rel of expect.absent) {
    if (await lstat(path.join(rootfs, rel)).then(() => true, () => false)) faults.push(`${rel}: present, expected absent`);
  }
  for (const found of await whiteoutFiles(rootfs)) faults.push(`${found}: whiteout file left in the rootfs`);
  return faults;
}

async function whiteoutFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.name.startsWith('.wh.')) out.push(child);
    if (entry.isDirectory()) out.push(...(await whiteoutFiles(root, child)));
  }
  return out;
}
