// `syscontainer auto-update --install-timer`: writes the daily timer and its service into the
// unit directory, checks them with systemd-analyze verify, and enables and starts the timer
// where systemd runs. Idempotent: running it again rewrites the same files.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/atomic-file.js';
import type { RuntimeContext } from '../context.js';
import { defaultTemplatesDir } from '../render.js';
import { supervisorOf } from '../supervisor/choose.js';
import { autoUpdateServiceName, autoUpdateTimerName, renderAutoUpdateUnits } from './auto-update-units.js';

export async function installAutoUpdateTimer(ctx: RuntimeContext): Promise<{ enabled: boolean; files: string[] }> {
  const cli = ctx.cli;
  if (cli === undefined) throw new SyscontainerError('EINVAL', 'auto-update --install-timer: no command line of this CLI to write into the unit');
  const units = await renderAutoUpdateUnits(cli, ctx.root, defaultTemplatesDir());
  // Checked in a directory of their own before they replace anything in the unit directory.
  const staging = path.join(ctx.root, '.auto-update-units');
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    await writeFile(path.join(staging, autoUpdateServiceName), units.service);
    await writeFile(path.join(staging, autoUpdateTimerName), units.timer);
    for (const unit of [autoUpdateServiceName, autoUpdateTimerName]) {
      const { errors } = await ctx.systemd.verify(path.join(staging, unit), { unitPath: [staging] });
      if (errors.length > 0) throw new SyscontainerError('ETEMPLATE', `unit ${unit} does not pass systemd-analyze verify: ${errors.join(' / ')}`);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await mkdir(ctx.unitDir, { recursive: true });
  const files = [path.join(ctx.unitDir, autoUpdateServiceName), path.join(ctx.unitDir, autoUpdateTimerName)];
  await writeFileAtomic(files[0] as string, units.service);
  await writeFileAtomic(files[1] as string, units.timer);
  const enabled = await (await supervisorOf(ctx)).startHostUnit(autoUpdateTimerName);
  return { enabled, files };
}
