// A slot's tmpfiles copy is named as Atomic named it (tmpfiles-NAME.conf); slots written by
// syscontainer before hold NAME.conf, and rollback to one must still publish its file.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { RuntimeContext } from '../../runtime/context.js';
import type { DeploymentInfo } from '../../runtime/deployment.js';
import { publishUnitFiles, slotTmpfilesName, slotTmpfilesPath, unitFilesMatch } from '../../runtime/unit-files.js';

async function setUp(t: ExecutionContext) {
  const base = await mkdtemp(path.join(tmpdir(), 'syscontainer-unit-files-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const slot = path.join(base, 'web.0');
  await mkdir(slot);
  await writeFile(path.join(slot, 'web.service'), '[Service]\nExecStart=/bin/true\n');
  const ctx = { unitDir: path.join(base, 'units'), tmpfilesDir: path.join(base, 'tmpfiles') } as unknown as RuntimeContext;
  const info = { hasTmpfiles: true } as unknown as DeploymentInfo;
  return { slot, ctx, info };
}

test("a slot's tmpfiles file: Atomic's name; NAME.conf only where a slot has just that", async (t) => {
  const { slot } = await setUp(t);
  t.is(slotTmpfilesName('web'), 'tmpfiles-web.conf');
  t.is(await slotTmpfilesPath(slot, 'web'), path.join(slot, 'tmpfiles-web.conf'), 'neither yet: the name to write');
  await writeFile(path.join(slot, 'web.conf'), 'd /run/web 0755 - - -\n');
  t.is(await slotTmpfilesPath(slot, 'web'), path.join(slot, 'web.conf'));
  await writeFile(path.join(slot, 'tmpfiles-web.conf'), 'd /run/web2 0755 - - -\n');
  t.is(await slotTmpfilesPath(slot, 'web'), path.join(slot, 'tmpfiles-web.conf'), "both: Atomic's wins");
});

test('a slot written before (NAME.conf) is published and then matches the host', async (t) => {
  const { slot, ctx, info } = await setUp(t);
  await writeFile(path.join(slot, 'web.conf'), 'd /run/web 0755 - - -\n');
  await publishUnitFiles(ctx, 'web', slot, info);
  t.is(await readFile(path.join(ctx.tmpfilesDir, 'web.conf'), 'utf8'), 'd /run/web 0755 - - -\n');
  t.true(await unitFilesMatch(ctx, 'web', slot, info));
  await writeFile(path.join(ctx.tmpfilesDir, 'web.conf'), 'changed\n');
  t.false(await unitFilesMatch(ctx, 'web', slot, info), 'the comparison reads the old name too');
});

test('publish reports the units it wrote with new contents and those it removed; a unit as it was is not rewritten', async (t) => {
  const { slot, ctx, info } = await setUp(t);
  await writeFile(path.join(slot, 'tmpfiles-web.conf'), 'd /run/web 0755 - - -\n');
  for (const unit of ['web-healthcheck.timer', 'web-healthcheck.service']) await writeFile(path.join(slot, unit), `[Unit]\nDescription=${unit}\n`);
  const checked = { ...info, healthcheck: { test: ['CMD', 'true'] } } as unknown as DeploymentInfo;
  t.deepEqual(await publishUnitFiles(ctx, 'web', slot, checked), { written: ['web.service', 'web-healthcheck.timer', 'web-healthcheck.service'], removed: [] });
  const before = (await stat(path.join(ctx.unitDir, 'web.service'))).mtimeMs;
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(await publishUnitFiles(ctx, 'web', slot, checked), { written: [], removed: [] });
  t.is((await stat(path.join(ctx.unitDir, 'web.service'))).mtimeMs, before, 'systemd would see a change otherwise');
  await writeFile(path.join(slot, 'web.service'), '[Service]\nExecStart=/bin/false\n');
  t.deepEqual(await publishUnitFiles(ctx, 'web', slot, info), { written: ['web.service'], removed: ['web-healthcheck.timer', 'web-healthcheck.service'] });
  t.is(await readFile(path.join(ctx.unitDir, 'web.service'), 'utf8'), '[Service]\nExecStart=/bin/false\n');
  t.deepEqual(await publishUnitFiles(ctx, 'web', slot, { ...info, noContainerService: true } as DeploymentInfo), { written: [], removed: ['web.service'] });
});
