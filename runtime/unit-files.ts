// Publishing a deployment's unit and tmpfiles file: each slot holds its own copies
// (DIR/NAME.service, DIR/tmpfiles-NAME.conf as Atomic named it; DIR/NAME.conf in slots
// syscontainer wrote before, still read); the host's copies, where systemd reads them
// (UNITDIR/NAME.service, TMPFILESDIR/NAME.conf), are those of the active deployment.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { pathExists } from '../common/path-exists.js';
import type { RuntimeContext } from './context.js';
import type { DeploymentInfo } from './deployment.js';
import { healthServiceName, healthTimerName } from './health/health-units.js';
import type { UnitChanges } from './supervisor/supervisor.js';

export const unitName = (name: string): string => `${name}.service`;
export const unitFile = (ctx: RuntimeContext, name: string): string => path.join(ctx.unitDir, unitName(name));
export const tmpfilesFile = (ctx: RuntimeContext, name: string): string => path.join(ctx.tmpfilesDir, `${name}.conf`);
/** The slot's own tmpfiles file, named as Atomic named it. */
export const slotTmpfilesName = (name: string): string => `tmpfiles-${name}.conf`;

/** The slot's tmpfiles file as it is on disk: Atomic's name, else NAME.conf of slots written before. */
export async function slotTmpfilesPath(dir: string, name: string): Promise<string> {
  const atomic = path.join(dir, slotTmpfilesName(name));
  if (!(await pathExists(atomic)) && (await pathExists(path.join(dir, `${name}.conf`)))) return path.join(dir, `${name}.conf`);
  return atomic;
}

async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, content);
}

/**
 * Copies the slot's unit and tmpfiles file to where systemd reads them (or removes stale ones).
 * Returns the units it wrote with new contents and those it removed: a unit file rewritten as it
 * was would only make a loaded unit look changed to systemd (NeedDaemonReload compares times).
 */
export async function publishUnitFiles(ctx: RuntimeContext, name: string, dir: string, info: DeploymentInfo): Promise<UnitChanges> {
  const written: string[] = [];
  const removed: string[] = [];
  const publish = async (unit: string, wanted: boolean) => {
    const file = path.join(ctx.unitDir, unit);
    if (!wanted) {
      if (!(await pathExists(file))) return;
      await rm(file, { force: true });
      removed.push(unit);
      return;
    }
    const content = await readFile(path.join(dir, unit), 'utf8');
    if (content === (await readFile(file, 'utf8').catch(() => undefined))) return;
    await writeAtomically(file, content);
    written.push(unit);
  };
  await publish(unitName(name), !info.noContainerService);
  if (info.hasTmpfiles) await writeAtomically(tmpfilesFile(ctx, name), await readFile(await slotTmpfilesPath(dir, name), 'utf8'));
  else await rm(tmpfilesFile(ctx, name), { force: true });
  // The health check's timer and service come and go with the unit that Wants= the timer.
  for (const unit of healthUnitNames(name)) await publish(unit, hasHealthUnits(info));
  return { written, removed };
}

/** NAME-healthcheck.timer and NAME-healthcheck.service. */
export const healthUnitNames = (name: string): string[] => [healthTimerName(name), healthServiceName(name)];
const hasHealthUnits = (info: DeploymentInfo) => info.healthcheck !== undefined && !info.noContainerService;

/** Whether the host's unit and tmpfiles file are those of the deployment in `dir`. */
export async function unitFilesMatch(ctx: RuntimeContext, name: string, dir: string, info: DeploymentInfo): Promise<boolean> {
  const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);
  const unitOk = (await read(path.join(dir, unitName(name)))) === (await read(unitFile(ctx, name)));
  const tmpfilesOk = info.hasTmpfiles
    ? (await read(await slotTmpfilesPath(dir, name))) === (await read(tmpfilesFile(ctx, name)))
    : !(await pathExists(tmpfilesFile(ctx, name)));
  let healthOk = true;
  for (const unit of healthUnitNames(name)) {
    const published = await read(path.join(ctx.unitDir, unit));
    if (hasHealthUnits(info) ? published !== (await read(path.join(dir, unit))) : published !== undefined) healthOk = false;
  }
  return unitOk && tmpfilesOk && healthOk;
}

/** Removes the host's unit and tmpfiles file. Idempotent. */
export async function removeUnitFiles(ctx: RuntimeContext, name: string): Promise<void> {
  await rm(unitFile(ctx, name), { force: true });
  await rm(tmpfilesFile(ctx, name), { force: true });
  for (const unit of healthUnitNames(name)) await rm(path.join(ctx.unitDir, unit), { force: true });
}
