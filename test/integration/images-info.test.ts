// `images info` on an Atomic-style image lists the variables its /exports templates use, in
// the three kinds a user must tell apart: set by the installer, with a default, required.
// Golden file: test/golden/images-info-variables.txt. Needs ostree (the image is pulled from an
// OCI layout into a real store).
import { join } from 'node:path';
import { buildImage } from '../../images/build/image.js';
import { writeOciLayout } from '../../images/build/oci-layout.js';
import { rootfsEntries } from '../../images/build/rootfs-entries.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { matchesGolden } from '../helpers/golden.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.store);

const file = (path: string, content: string) => ({ type: 'file' as const, path, content, mode: 0o644 });

test('images info lists installer, default and required variables of the /exports templates (golden)', async (t) => {
  const root = await tempDir(t);
  const layout = join(root, 'atomic-vars');
  const built = await buildImage({
    config: { Cmd: ['/usr/bin/etcd'], Labels: { 'atomic.type': 'system' } },
    layers: [
      {
        // Uncompressed: the digests in the golden file do not depend on the zlib version.
        compression: 'none',
        entries: rootfsEntries([
          file('/exports/config.json.template', '{"process": {"args": ["/usr/bin/etcd"], "env": ["NAME=$NAME", "ETCD_NAME=$ETCD_NAME", "TOKEN=${CLUSTER_TOKEN}"]},\n "mounts": [{"source": "$RUN_DIRECTORY/$NAME"} $ADDTL_MOUNTS]}\n'),
          file('/exports/service.template', '[Service]\nExecStart=$EXEC_START\nWorkingDirectory=$DESTDIR\n'),
          file('/exports/tmpfiles.template', 'd ${STATE_DIRECTORY}/$NAME 0700 $HOST_UID $HOST_GID - -\n'),
          file('/exports/manifest.json', JSON.stringify({ version: '1.0', defaultValues: { ETCD_NAME: 'default', ADDTL_MOUNTS: '' } })),
        ]),
      },
    ],
  });
  await writeOciLayout(layout, [{ image: built, tag: 'v1' }]);
  const pulled = await runCli(['--root', root, 'pull', `oci:${layout}:v1`]);
  t.is(pulled.exitCode, 0, pulled.stderr);
  const info = await runCli(['--root', root, 'images', 'info', 'localhost/atomic-vars:v1']);
  t.is(info.exitCode, 0, info.stderr);
  await matchesGolden(t, 'images-info-variables.txt', info.stdout);
});
