// `syscontainer run`, as Atomic's `atomic run` for system containers: a command in an installed,
// running container (runc exec), or a one-off run of an image: checkout into a temporary
// bundle, config.json rendered as for an install (templates, values, privileges), the command
// replacing the image's, `runc run` in the foreground, and everything removed afterwards. No
// unit, no host files, no deployment. The state directory defaults to the temporary bundle, so
// the image's volumes leave nothing behind.
import { randomBytes } from 'node:crypto';
import { mkdir, rmdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SyscontainerError } from '../common/errors.js';
import { validateContainerName } from './container-name.js';
import { runcOf, type RuntimeContext, type RuntimeImage } from './context.js';
import { DeploymentStore } from './deployment.js';
import { exec } from './exec.js';
import { start } from './transactions/start-stop.js';
import { renderDeployment, renderHostFilesOnly } from './render.js';
import { rootfsInUse } from './rootfs-users.js';
import { validateSetValues } from './values.js';
import type { PrivilegePolicy } from './privileges.js';
import type { Writable } from 'node:stream';
import type { ContainerSpec } from './container-spec.js';

export interface RunOptions {
  /** An installed container's name (exec in it), or an image name, id or ref (one-off run). */
  target: string;
  /** The command; required for a container, replaces the image's command for an image. */
  command?: readonly string[];
  set?: Readonly<Record<string, string>>;
  allowPrivileges?: boolean;
  /** Who decides about privileges beyond the default (privileges.ts); default `consent`. */
  privilegePolicy?: PrivilegePolicy;
  /** Attach the caller's stdin/stdout/stderr (output is then not captured). */
  interactive?: boolean;
  /** Command, env, mounts, … over the image's (the REST service's one-off run). */
  containerSpec?: ContainerSpec;
  /** Output as it comes, besides the collected result. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Give the run a stdin pipe, handed here once it runs (the caller writes and ends it). */
  onStdin?: (stdin: Writable) => void;
}

export interface RunResult {
  /**
   * 'exec' in an installed container, 'once' for a one-off run of an image, 'started' for an
   * installed container named without a command (Atomic's `run NAME` starts it; no output).
   */
  mode: 'exec' | 'once' | 'started';
  exitCode: number;
  stdout: string;
  stderr: string;
}

function isInstalledName(ctx: RuntimeContext, target: string): Promise<boolean> {
  try {
    validateContainerName(target);
  } catch {
    return Promise.resolve(false);
  }
  return new DeploymentStore(ctx.root).active(target).then((active) => active !== undefined);
}

/** A container id for a one-off run of `image`: its repository's last part, "-run-", random hex. */
function oneOffName(image: RuntimeImage): string {
  const repo = image.name.replace(/[:@].*$/, '').split('/').pop() ?? 'image';
  const base = repo.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40) || 'image';
  return `${base}-run-${randomBytes(4).toString('hex')}`;
}

/**
 * Runs `command` in the installed container `target`, or runs image `target` once. Resolves
 * with the exit code (a non-zero one is not an error). Throws ENOTFOUND when `target` is
 * neither, EUSAGE for a noContainerService image. An installed container without a command is
 * started (idempotent).
 */
export async function run<I extends RuntimeImage>(ctx: RuntimeContext<I>, options: RunOptions): Promise<RunResult> {
  validateSetValues(options.set ?? {});
  if (await isInstalledName(ctx, options.target)) {
    if ((options.command ?? []).length === 0) {
      await start(ctx, { name: options.target });
      return { mode: 'started', exitCode: 0, stdout: '', stderr: '' };
    }
    const result = await exec(ctx, { name: options.target, command: options.command ?? [], interactive: options.interactive });
    return { mode: 'exec', ...result };
  }
  const image = await ctx.store.getImage(options.target);
  if (image === undefined) {
    throw new SyscontainerError('ENOTFOUND', `${options.target} is neither an installed container nor an image in the store`, {
      hint: `pull it first: syscontainer pull ${options.target}`,
    });
  }
  return runImageOnce(ctx, image, options);
}

/** The one-off run of `image` (see the file comment). Removes its bundle whatever happens. */
export async function runImageOnce<I extends RuntimeImage>(ctx: RuntimeContext<I>, image: I, options: Omit<RunOptions, 'target'> & { name?: string }): Promise<RunResult> {
  const name = options.name ?? oneOffName(image);
  validateContainerName(name);
  const deployments = new DeploymentStore(ctx.root);
  const bundle = path.join(ctx.root, '.run', name);
  const runc = runcOf(ctx);
  await mkdir(path.dirname(bundle), { recursive: true, mode: 0o700 });
  await deployments.removeTree(bundle);
  await mkdir(bundle, { mode: 0o700 });
  try {
    // The image's shared rootfs, linked from the bundle so that it is not removed during the run.
    const rootPath = await ctx.store.withRootfs(image, async (shared) => {
      await symlink(shared, path.join(bundle, 'rootfs'));
      return shared;
    });
    const input = {
      name,
      destDir: bundle,
      rootfs: rootPath,
      rootPath,
      image,
      runtimePath: ctx.runtimePath,
      set: { STATE_DIRECTORY: path.join(bundle, 'state'), ...(options.set ?? {}) },
      allowPrivileges: options.allowPrivileges,
      ...(options.privilegePolicy !== undefined ? { privilegePolicy: options.privilegePolicy } : {}),
      ...(options.containerSpec !== undefined ? { containerSpec: options.containerSpec } : {}),
    };
    if ((await renderHostFilesOnly(input)) !== undefined) {
      throw new SyscontainerError('EUSAGE', `image ${image.name} declares noContainerService: there is nothing to run`);
    }
    const rendered = await renderDeployment(input);
    const spec = rendered.spec;
    if ((options.command ?? []).length > 0) spec.process.args = [...(options.command ?? [])];
    // No unit to live under: runc makes (and removes) a cgroup of its own for the run.
    delete spec.linux.cgroupsPath;
    await writeFile(path.join(bundle, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o644 });
    if (rendered.tmpfiles !== undefined) {
      const tmpfiles = path.join(bundle, `${name}.conf`);
      await writeFile(tmpfiles, rendered.tmpfiles, { mode: 0o644 });
      await ctx.systemd.tmpfilesCreate(tmpfiles);
    }
    const result = await runc.runForeground(name, bundle, {
      interactive: options.interactive,
      ...(options.onOutput !== undefined ? { onOutput: options.onOutput } : {}),
      ...(options.onStdin !== undefined ? { onStdin: options.onStdin } : {}),
    });
    return { mode: 'once', ...result };
  } finally {
    await runc.delete(name, { force: true }).catch(() => undefined);
    await deployments.removeTree(bundle);
    await rmdir(path.dirname(bundle)).catch(() => undefined); // when no other run is under way
    // The image may have been deleted during the run: then its rootfs goes now.
    await ctx.store.releaseRootfs(image.configDigest, rootfsInUse(ctx.root)).catch(() => undefined);
  }
}
