// The health check's timer and service, rendered with the container's unit, checked by the
// real `systemd-analyze verify` the way install checks them (side by side in one directory).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { renderDeployment, type RenderInput } from '../../runtime/render.js';
import { directiveValues } from '../../runtime/service/unit-directives.js';
import { systemdExecLine, systemdQuote } from '../../runtime/health/health-units.js';
import { Systemd } from '../../runtime/systemd.js';
import type { ImageConfig } from '../../store/oci/oci-types.js';
import { matchesGolden } from '../helpers/golden.js';

const s = 1_000_000_000;
function config(extra: Record<string, unknown> = {}): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/httpd', '-f'], Healthcheck: { Test: ['CMD-SHELL', 'wget -q -O- http://127.0.0.1:8080/ >/dev/null'], Interval: 5 * s, Retries: 2 }, ...extra },
    rootfs: { type: 'layers', diff_ids: [] },
  };
}

async function render(t: { teardown(fn: () => Promise<void>): void }, image: ImageConfig, extra: Partial<RenderInput> = {}) {
  const rootfs = await mkdtemp(path.join(tmpdir(), 'syscontainer-health-units-'));
  t.teardown(() => rm(rootfs, { recursive: true, force: true }));
  return renderDeployment({
    name: 'web',
    destDir: '/var/lib/containers/atomic/web.0',
    rootfs,
    image: { name: '127.0.0.1:5000/web:1.0', configDigest: `sha256:${'c0'.repeat(32)}`, config: image },
    runtimePath: '/usr/sbin/runc',
    previousUuid: '11111111-2222-4333-8444-555555555555',
    capabilities: ['CAP_CHOWN'],
    hostUid: 0,
    hostGid: 0,
    healthRunCommand: ['/usr/bin/node', '/opt/syscontainer/syscontainer.mjs', '--root', '/var/lib/containers/atomic', 'healthcheck', 'run', 'web'],
    ...extra,
  });
}

test("the image's Healthcheck gives a timer and a service; the unit wants the timer (golden)", async (t) => {
  const r = await render(t, config());
  t.deepEqual(r.healthcheck, { test: ['CMD-SHELL', 'wget -q -O- http://127.0.0.1:8080/ >/dev/null'], intervalMs: 5000, timeoutMs: 30_000, retries: 2, startPeriodMs: 0, onFailure: 'restart' });
  t.truthy(r.healthUnits);
  await matchesGolden(t, 'healthcheck.service', r.healthUnits!.service);
  await matchesGolden(t, 'healthcheck.timer', r.healthUnits!.timer);
  t.true(directiveValues(r.unit, 'Unit', 'Wants').includes('web-healthcheck.timer'));
  const timer = r.healthUnits!.timer;
  t.deepEqual(directiveValues(timer, 'Timer', 'OnUnitActiveSec'), ['5s']);
  t.deepEqual(directiveValues(timer, 'Unit', 'BindsTo'), ['web.service']);
  t.deepEqual(directiveValues(r.healthUnits!.service, 'Service', 'Type'), ['oneshot']);
  t.deepEqual(directiveValues(r.healthUnits!.service, 'Unit', 'StartLimitIntervalSec'), ['0']);
});

test('no check, no units: --no-healthcheck removes the image one, and no timer is wanted', async (t) => {
  const r = await render(t, config(), { service: { health: { test: ['NONE'] } } });
  t.is(r.healthcheck, undefined);
  t.is(r.healthUnits, undefined);
  t.false(r.unit.includes('healthcheck'));
});

test('restart policy, ordering and notify reach the rendered unit; --restart no makes the default action none', async (t) => {
  const r = await render(t, config(), { service: { restart: 'no', requires: ['etcd'], after: ['dns'], notify: true } });
  t.deepEqual(directiveValues(r.unit, 'Service', 'Restart'), ['no']);
  t.deepEqual(directiveValues(r.unit, 'Unit', 'Requires'), ['etcd.service']);
  t.deepEqual(directiveValues(r.unit, 'Unit', 'After'), ['network-online.target', 'etcd.service', 'dns.service']);
  t.deepEqual(directiveValues(r.unit, 'Service', 'Type'), ['notify']);
  t.true(r.notify);
  t.is(r.healthcheck?.onFailure, 'none');
});

test('an image asks for notify by its label', async (t) => {
  t.true((await render(t, config({ Labels: { 'io.syscontainer.notify': 'true' } }))).notify);
  t.false((await render(t, config())).notify);
});

test('a malformed image Healthcheck is refused naming the image', async (t) => {
  await t.throwsAsync(render(t, config({ Healthcheck: { Test: ['SHELL', 'x'] } })), { message: /^image 127\.0\.0\.1:5000\/web:1\.0: config Healthcheck\.Test/ });
});

test('systemd-analyze verify passes on the unit, the timer and the service, side by side as in a slot', async (t) => {
  const version = await execa('systemd-analyze', ['--version'], { reject: false });
  if (version.exitCode !== 0) {
    if (process.env.CI) t.fail('systemd-analyze is missing');
    return t.pass('systemd-analyze is not installed: skipped');
  }
  const r = await render(t, config(), { service: { requires: ['kv-store'], restart: 'always', notify: true } });
  const dir = await mkdtemp(path.join(tmpdir(), 'syscontainer-verify-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const slot = path.join(dir, 'web.0');
  const unitDir = path.join(dir, 'units');
  await mkdir(slot);
  await mkdir(unitDir);
  // Verify checks that ExecStart's binary exists: point the unit at one that does.
  await writeFile(path.join(slot, 'web.service'), r.unit.replace(/\/usr\/sbin\/runc/g, '/bin/true'));
  await writeFile(path.join(slot, 'web-healthcheck.service'), r.healthUnits!.service.replace('/usr/bin/node', process.execPath));
  await writeFile(path.join(slot, 'web-healthcheck.timer'), r.healthUnits!.timer);
  await writeFile(path.join(unitDir, 'kv-store.service'), '[Unit]\nDescription=kv\n[Service]\nExecStart=/bin/true\n');
  const systemd = new Systemd({ prefix: [] });
  for (const unit of ['web.service', 'web-healthcheck.service', 'web-healthcheck.timer']) {
    t.deepEqual(await systemd.verify(path.join(slot, unit), { unitPath: [slot, unitDir] }), { errors: [], warnings: [] }, unit);
  }
});

test('command lines for units: specifiers, variables and spaces survive systemd parsing', (t) => {
  t.is(systemdQuote('plain-word_1.2/x'), 'plain-word_1.2/x');
  t.is(systemdQuote('/var/lib/50%'), '/var/lib/50%%');
  t.is(systemdQuote('$HOME'), '$$HOME');
  t.is(systemdQuote('/my dir/cli.mjs'), '"/my dir/cli.mjs"');
  t.is(systemdQuote('say "hi"\\'), '"say \\"hi\\"\\\\"');
  t.is(systemdQuote(''), '""');
  t.throws(() => systemdQuote('a\nb'), { message: /control characters/ });
  t.throws(() => systemdExecLine(['node', 'x']), { message: /not an absolute path/ });
});
