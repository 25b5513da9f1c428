// images delete refuses an image a container runs, whichever of the image's names the
// container was installed under: the check is by full image id, not only by name.
// Real ostree store (pulled from an OCI layout); the container is installed without starting.
import { join } from 'node:path';
import { buildImage } from '../../images/build/image.js';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import { rootfsEntries } from '../../images/build/rootfs-entries.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding({ root: true, tools: ['ostree'] });

test('images delete refuses an image used by a container installed under another name of the same id', async (t) => {
  const dir = await tempDir(t);
  const env = {
    SYSCONTAINER_ROOT: join(dir, 'root'),
    SYSCONTAINER_UNIT_DIR: join(dir, 'units'),
    SYSCONTAINER_TMPFILES_DIR: join(dir, 'tmpfiles.d'),
    SYSCONTAINER_HOST_ROOT: join(dir, 'host'),
  };
  const image = await buildImage({
    config: { Cmd: ['/bin/service'] },
    layers: [{ compression: 'none', entries: rootfsEntries([{ type: 'file', path: '/bin/service', content: '#!/bin/sh\n', mode: 0o755 }]) }],
  });
  // One image, two names: localhost/shared:v1 and localhost/shared:v2 have the same image id.
  await writeOciLayout(join(dir, 'shared'), [{ image, tag: 'v1' }, { image, tag: 'v2' }]);
  for (const tag of ['v1', 'v2']) {
    const pulled = await runCli(['pull', `oci:${join(dir, 'shared')}:${tag}`], env);
    t.is(pulled.exitCode, 0, pulled.stderr);
  }
  const name = `del${process.pid}`;
  const installed = await runCli(['install', '--system', '--no-start', '--name', name, 'localhost/shared:v1'], env);
  t.is(installed.exitCode, 0, installed.stderr);
  t.teardown(() => runCli(['uninstall', name], env).then(() => undefined));

  const refused = await runCli(['images', 'delete', 'localhost/shared:v2'], env);
  t.is(refused.exitCode, 1, refused.stderr);
  t.regex(refused.stderr, new RegExp(`^error: image localhost/shared:v2 is used by container\\(s\\) ${name}$`, 'm'));
  const listed = JSON.parse((await runCli(['images', 'list', '--json'], env)).stdout) as { name: string }[];
  t.deepEqual(listed.map((entry) => entry.name).sort(), ['localhost/shared:v1', 'localhost/shared:v2'], 'both names still stored');

  const uninstalled = await runCli(['uninstall', name], env);
  t.is(uninstalled.exitCode, 0, uninstalled.stderr);
  const deleted = await runCli(['images', 'delete', 'localhost/shared:v2'], env);
  t.is(deleted.exitCode, 0, deleted.stderr);
  t.is(deleted.stdout.trim(), 'deleted localhost/shared:v2');
});
