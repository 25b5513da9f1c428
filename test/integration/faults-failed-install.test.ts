// Failed installs through the real CLI, registry, ostree and runc (no systemd: the runc path):
// each one exits 1 with one line naming what is wrong, and leaves the root exactly as it was
// (no slot, no link, no unit, no tmpfiles, not listed, no runc container). Issue 16 saw
// `install --runtime=/bin/ls` leave its unit and container behind, listed as failed.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { tempDir } from '../helpers/cli.js';
import { cli, containerProblems, faultKitNeeds, isolatedEnv, runtimePath, serviceImagesInRegistry } from '../helpers/fault-kit.js';
import { testNeeding } from '../helpers/host-requirements.js';
import { listTree } from '../helpers/systemd-harness.js';

const test = testNeeding(faultKitNeeds);

const prefix = `ff${process.pid}`;
const images = serviceImagesInRegistry('faults/failed-install', prefix);

test('failed installs (--runtime=/bin/ls, a missing runtime, a --rootfs without mount points) leave nothing', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  t.is((await cli(['pull', images.v1], env)).exitCode, 0);
  // Where systemd reads units and tmpfiles files: a host has them before any install.
  for (const d of [env.SYSCONTAINER_UNIT_DIR!, env.SYSCONTAINER_TMPFILES_DIR!]) await mkdir(d, { recursive: true });
  const bare = join(dir, 'bare-rootfs');
  await mkdir(join(bare, 'usr'), { recursive: true });
  const cases: [string, string[], RegExp][] = [
    // Executable, but no OCI runtime: the first runtime command that fails is named.
    ['ls', ['--runtime=/bin/ls'], /^error: container \S+: runc state: \/bin\/ls: /m],
    ['missing', ['--runtime=/does/not/exist'], /^error: runtime \/does\/not\/exist is not installed/m],
    ['bare', [`--rootfs=${bare}`], /^error: --rootfs \S+: the rootfs \S+ lacks the mount points /m],
  ];
  for (const [label, options, message] of cases) {
    const name = `${prefix}${label}`;
    const before = await listTree(dir);
    const result = await cli(['install', '--system', '--no-pull', `--name=${name}`, ...options, images.v1], env);
    t.is(result.exitCode, 1, `${label}: ${result.stdout}`);
    t.regex(result.stderr, message, label);
    t.deepEqual(await listTree(dir), before, `${label}: nothing written or left`);
    t.deepEqual((await containerProblems(env, name, true)).state, { active: undefined, revision: undefined, unitPresent: false }, label);
    t.false((await cli(['containers', 'list', '-q'], env)).stdout.split('\n').includes(name), `${label}: not listed`);
    t.not((await execa(runtimePath, ['state', name], { reject: false })).exitCode, 0, `${label}: no runc container`);
  }
});
