// syscontainer-auto-update.service and .timer: `syscontainer auto-update` once a day.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ejs from 'ejs';
import { systemdExecLine } from '../health/health-units.js';

export const autoUpdateServiceName = 'syscontainer-auto-update.service';
export const autoUpdateTimerName = 'syscontainer-auto-update.timer';

/** Renders the pair; `cli` is the CLI's command line, run with `--root ROOT auto-update`. Pure apart from reading the templates. */
export async function renderAutoUpdateUnits(cli: readonly string[], root: string, templatesDir: string): Promise<{ service: string; timer: string }> {
  const values = { execStart: systemdExecLine([...cli, '--root', root, 'auto-update']) };
  const render = async (file: string) => ejs.render(await readFile(path.join(templatesDir, file), 'utf8'), values);
  return { service: await render('auto-update.service.ejs'), timer: await render('auto-update.timer.ejs') };
}
