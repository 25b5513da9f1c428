// The container spec through render: applied onto what the image's templates give, and counted
// by the privileges check like anything an image asks for.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { renderDeployment, type RenderInput } from '../../runtime/render.js';

async function input(t: { teardown(fn: () => Promise<void>): void }, extra: Partial<RenderInput>): Promise<RenderInput> {
  const rootfs = await mkdtemp(path.join(tmpdir(), 'syscontainer-render-spec-'));
  t.teardown(() => rm(rootfs, { recursive: true, force: true }));
  await mkdir(path.join(rootfs, 'etc'));
  await writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\napp:x:100:101::/:/bin/sh\n');
  return {
    name: 'web-server',
    destDir: '/var/lib/containers/atomic/web-server.0',
    rootfs,
    image: { name: '127.0.0.1:5000/web:1', configDigest: `sha256:${'c0'.repeat(32)}`, config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Entrypoint: ['/bin/httpd'], Cmd: ['-f'], Env: ['PATH=/bin'] } } },
    runtimePath: '/usr/sbin/runc',
    previousUuid: '11111111-2222-4333-8444-555555555555',
    capabilities: ['CAP_CHOWN'],
    hostUid: 0,
    hostGid: 0,
    ...extra,
  };
}

test('command, env, user, pod network and inline files are rendered; no consent needed for those', async (t) => {
  const r = await renderDeployment(
    await input(t, {
      containerSpec: { args: ['-p', '8080'], env: { A: '1' }, user: 'app', pod: 'web', network: 'pod', mounts: [{ type: 'file', destination: '/etc/web.conf', content: 'x\n' }], resources: { memoryBytes: 1 << 26 } },
    }),
  );
  t.deepEqual(r.spec.process.args, ['/bin/httpd', '-p', '8080']);
  t.deepEqual(r.spec.process.env, ['PATH=/bin', 'A=1']);
  t.deepEqual([r.spec.process.user.uid, r.spec.process.user.gid], [100, 101]);
  t.deepEqual(r.files, [{ path: 'files/0/web.conf', content: 'x\n', mode: 0o644 }]);
  t.regex(r.unit, /Requires=syscontainer-pod-web.service/);
  t.regex(r.unit, /MemoryMax=67108864/);
  t.deepEqual(r.privileges, []);
});

test('capabilities and host namespaces from a container spec need consent, and are listed', async (t) => {
  const asking = { containerSpec: { capabilities: { add: ['SYS_ADMIN'] }, hostPid: true } };
  await t.throwsAsync(renderDeployment(await input(t, asking)), { message: /asks for privileges beyond the default: capability CAP_SYS_ADMIN; the host's PID namespace/ });
  const granted = await renderDeployment(await input(t, { ...asking, allowPrivileges: true }));
  t.deepEqual(granted.privileges, ['capability CAP_SYS_ADMIN', "the host's PID namespace"]);
});

// The CLI's policy grants what an image's own /exports declare; this image has none (our
// templates), so what is laid over them still needs --privileged; confinement refuses it whoever consents.
test('declared: an image without /exports gets nothing beyond the default unless allowPrivileges; confined refuses even then', async (t) => {
  const asking = { containerSpec: { capabilities: { add: ['NET_ADMIN'] } } };
  await t.throwsAsync(renderDeployment(await input(t, { ...asking, privilegePolicy: 'declared' })), { message: /beyond the default: capability CAP_NET_ADMIN$/ });
  t.deepEqual((await renderDeployment(await input(t, { ...asking, privilegePolicy: 'declared', allowPrivileges: true }))).privileges, ['capability CAP_NET_ADMIN']);
  const confined = await t.throwsAsync(renderDeployment(await input(t, { ...asking, privilegePolicy: 'confined', allowPrivileges: true })), { message: /beyond the default: capability CAP_NET_ADMIN$/ });
  t.regex((confined as { hint?: string }).hint ?? '', /confinement is enforced/);
  t.deepEqual((await renderDeployment(await input(t, { privilegePolicy: 'confined' }))).privileges, [], 'nothing asked: confined installs it');
});
