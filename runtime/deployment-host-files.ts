// The glue between deployments and host files (host-files.ts): a deployment stages its
// image's hostfs into DESTDIR/hostfs and records the files in its info; switching deployments
// switches the host's files; uninstall removes them. What was kept because it was modified
// is said through ctx.log.
import path from 'node:path';
import type { RuntimeContext } from './context.js';
import type { ActiveDeployment, DeploymentInfo } from './deployment.js';
import { pathExists } from '../common/path-exists.js';
import { parseExportsManifest, type ExportsManifest } from './exports-manifest.js';
import { readRootfsFile } from './rootfs-files.js';
import { applyHostFiles, removeHostFiles, stageHostFiles, type HostFileRecord } from './host-files.js';
import { renderRenameFiles } from './rename-files.js';

export const hostfsStageName = 'hostfs';

export function hostRootOf(ctx: RuntimeContext): string {
  return path.resolve(ctx.hostRoot ?? '/');
}

/** Stages the image's /exports/hostfs of `rootfs` into DIR/hostfs; the records for the info. */
export async function stageDeploymentHostFiles(
  ctx: RuntimeContext,
  input: { dir: string; rootfs: string; manifest: ExportsManifest | undefined; values: Readonly<Record<string, string>>; imageName: string },
): Promise<HostFileRecord[]> {
  return stageHostFiles({
    rootfs: input.rootfs,
    stageDir: path.join(input.dir, hostfsStageName),
    renames: renderRenameFiles(input.manifest?.renameFiles ?? {}, input.values, input.imageName),
    templates: input.manifest?.installedFilesTemplate ?? [],
    values: input.values,
    imageName: input.imageName,
    hostRoot: hostRootOf(ctx),
  });
}

function keptLines(ctx: RuntimeContext, name: string, kept: readonly string[]): void {
  for (const file of kept) ctx.log?.(`${name}: kept ${file}: modified since it was installed`);
}

/**
 * A deployment atomic made has no staged copy of its host files: stage them from its own
 * checkout (rootfs/exports, its manifest's renames and templates, its values), as atomic's
 * rollback copied them, and record what is staged.
 */
async function stageAtomicHostFiles(ctx: RuntimeContext, target: ActiveDeployment): Promise<ActiveDeployment> {
  if (target.info.origin !== 'atomic' || (target.info.hostFiles ?? []).length === 0 || (await pathExists(path.join(target.dir, hostfsStageName)))) return target;
  const rootfs = path.join(target.dir, 'rootfs');
  const text = await readRootfsFile(rootfs, '/exports/manifest.json');
  const manifest = text === undefined ? undefined : parseExportsManifest(text, target.info.image);
  const hostFiles = await stageDeploymentHostFiles(ctx, { dir: target.dir, rootfs, manifest, values: target.info.values, imageName: target.info.image });
  return { ...target, info: { ...target.info, hostFiles } };
}

/** Makes the host files those of `target`, coming from `from` (the deployment applied now, if any). */
export async function switchDeploymentHostFiles(ctx: RuntimeContext, name: string, target: ActiveDeployment, from: ActiveDeployment | undefined): Promise<void> {
  target = await stageAtomicHostFiles(ctx, target);
  const to = target.info.hostFiles ?? [];
  const previous = from?.info.hostFiles ?? [];
  if (to.length === 0 && previous.length === 0) return;
  const result = await applyHostFiles(
    hostRootOf(ctx),
    { records: to, stageDir: path.join(target.dir, hostfsStageName) },
    from === undefined ? undefined : { records: previous, stageDir: path.join(from.dir, hostfsStageName) },
  );
  keptLines(ctx, name, result.kept);
}

/** Removes the unmodified host files of `info`; says which modified ones it kept. */
export async function removeDeploymentHostFiles(ctx: RuntimeContext, name: string, info: DeploymentInfo | undefined): Promise<void> {
  if (info?.hostFiles === undefined || info.hostFiles.length === 0) return;
  keptLines(ctx, name, (await removeHostFiles(hostRootOf(ctx), info.hostFiles)).kept);
}
