// A slot's tmpfiles copy is named as Atomic named it (tmpfiles-NAME.conf); slots written by
// syscontainer before hold NAME.conf, and rollback to one must still publish its file.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
