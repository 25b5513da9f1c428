// A host as `atomic install --system` left it (Atomic/syscontainers.py, _do_checkout and
// _write_info_file; rpm_host_install.py for the host files), written by hand for tests:
//  - the image under the ref atomic's pull wrote for the name the user typed
//    (`ociimage/atomic-test-system-hostfs_3Alatest`, no registry in it);
//  - ROOT/NAME.0 with rootfs/ (a hardlink checkout of the layers), config.json rendered from
//    the image's template (root.path "rootfs", runc run from the deployment directory),
//    NAME.service, tmpfiles-NAME.conf and `info` with atomic's keys; the symlink ROOT/NAME
//    pointing at the absolute path of NAME.0;
//  - the unit and tmpfiles file copied to the host, the image's hostfs files copied onto the
//    host with their sha256 in info's installed-files-checksum ("0" for directories).
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

export interface AtomicHostOptions {
  /** syscontainer's ROOT = atomic's checkout path (the repo is ROOT/.storage/ostree). */
  root: string;
  unitDir: string;
  tmpfilesDir: string;
  hostRoot: string;
  name: string;
  /** The name as stored by our pull (REGISTRY/REPO:TAG). */
  storedName: string;
  /** The name atomic's user typed and atomic kept, e.g. "atomic-test-system-hostfs". */
  atomicName: string;
  runtimePath: string;
  /** The user's --set values at install (atomic kept them among all values). */
  set: Record<string, string>;
}

const encode = (name: string) => [...name].map((c) => (/[A-Za-z0-9.-]/.test(c) ? c : `_${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const substitute = (template: string, values: Record<string, string>) =>
  template.replace(/\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced, bare) => {
    const key = (braced ?? bare) as string | undefined;
    if (key === undefined) return '$';
    const value = values[key];
    if (value === undefined) throw new Error(`atomic would have said: unreplaced value for: '${key}'`);
    return value;
  });

async function ostree(repo: string, ...args: string[]): Promise<string> {
  return (await execa('ostree', [...args, `--repo=${repo}`])).stdout.trim();
}

/**
 * Turns an image our pull stored into one atomic's pull stored, and deploys it as atomic's
 * install did. Returns the deployment's values (UUID included) and installed files.
 */
export async function writeAtomicDeployment(o: AtomicHostOptions): Promise<{ values: Record<string, string>; installed: Record<string, string> }> {
  const repo = path.join(o.root, '.storage', 'ostree');
  const ourRef = `ociimage/${encode(o.storedName)}`;
  const atomicRef = `ociimage/${encode(`${o.atomicName}:latest`)}`;
  const commit = await ostree(repo, 'rev-parse', ourRef);
  const manifest = JSON.parse(await ostree(repo, 'cat', commit, '/manifest.json')) as { config: { digest: string } };
  const digest = (await ostree(repo, 'show', '--print-metadata-key=docker.digest', commit)).replace(/^'|'$/g, '');
  await ostree(repo, 'refs', `--create=${atomicRef}`, commit);
  await ostree(repo, 'refs', '--delete', ourRef);

  // The checkout: atomic made one per deployment (hardlinks into the repo); ours goes.
  const imageRootfs = path.join(o.root, '.storage', 'rootfs', manifest.config.digest.replace('sha256:', ''));
  const dest = path.join(o.root, `${o.name}.0`);
  await mkdir(dest, { recursive: true });
  await execa('cp', ['-a', '-l', imageRootfs, path.join(dest, 'rootfs')]);
  await rm(path.join(o.root, '.storage', 'rootfs'), { recursive: true, force: true });

  const exports = path.join(dest, 'rootfs', 'exports');
  const manifestJson = JSON.parse(await readFile(path.join(exports, 'manifest.json'), 'utf8')) as {
    defaultValues?: Record<string, string>;
    renameFiles?: Record<string, string>;
    installedFilesTemplate?: string[];
  };
  const values: Record<string, string> = {
    ...manifestJson.defaultValues,
    RUN_DIRECTORY: '/run',
    STATE_DIRECTORY: '/var/lib',
    CONF_DIRECTORY: '/etc',
    PIDFILE: `/run/container-${o.name}.pid`,
    ALL_PROCESS_CAPABILITIES: ['CAP_CHOWN', 'CAP_KILL'].map((c) => `"${c}"`).join(',\n'),
    RUNTIME: o.runtimePath,
    UUID: randomUUID(),
    ...o.set,
    DESTDIR: dest,
    NAME: o.name,
    // A service that keeps runc in the foreground (what atomic wrote without PIDFile support).
    EXEC_START: `${o.runtimePath} run '${o.name}'`,
    EXEC_STOP: `${o.runtimePath} kill '${o.name}'`,
    EXEC_STARTPRE: '',
    EXEC_STOPPOST: '',
    HOST_UID: '0',
    HOST_GID: '0',
    IMAGE_NAME: o.atomicName,
    IMAGE_ID: digest.replace('sha256:', ''),
  };
  await writeFile(path.join(dest, 'config.json'), substitute(await readFile(path.join(exports, 'config.json.template'), 'utf8'), values));
  const unit = `[Unit]\nDescription=Hello World System Container\n\n[Service]\nExecStart=${values.EXEC_START}\nExecStop=${values.EXEC_STOP}\nRestart=on-failure\nWorkingDirectory=${dest}\n\n[Install]\nWantedBy=multi-user.target\n`;
  await writeFile(path.join(dest, `${o.name}.service`), unit);
  const tmpfiles = substitute(await readFile(path.join(exports, 'tmpfiles.template'), 'utf8'), values);
  await writeFile(path.join(dest, `tmpfiles-${o.name}.conf`), tmpfiles);

  // Host files as rpm_host_install.rm_add_files_to_host copied them.
  const installed: Record<string, string> = {};
  const renames = Object.fromEntries(Object.entries(manifestJson.renameFiles ?? {}).map(([from, to]) => [from, substitute(to, values)]));
  const templates = new Set(manifestJson.installedFilesTemplate ?? []);
  async function walk(rel: string): Promise<void> {
    for (const entry of await readdir(path.join(exports, 'hostfs', rel))) {
      const source = path.join(exports, 'hostfs', rel, entry);
      const hostPath = renames[`/${path.posix.join(rel, entry)}`] ?? `/${path.posix.join(rel, entry)}`;
      const target = path.join(o.hostRoot, hostPath);
      if ((await stat(source)).isDirectory()) {
        await mkdir(target, { recursive: true });
        if ((await readdir(source)).length === 0) installed[hostPath] = '0';
        await walk(path.posix.join(rel, entry));
        continue;
      }
      await mkdir(path.dirname(target), { recursive: true });
      const text = await readFile(source, 'utf8');
      await writeFile(target, templates.has(hostPath) ? substitute(text, values) : text, { mode: (await stat(source)).mode & 0o7777 });
      installed[hostPath] = sha256(await readFile(target));
    }
  }
  await walk('');

  const info = {
    image: o.atomicName,
    revision: digest.replace('sha256:', ''),
    'ostree-commit': commit,
    created: Math.floor(Date.now() / 1000) - 86_400,
    values,
    'has-container-service': true,
    'installed-files': Object.keys(installed),
    'installed-files-checksum': installed,
    'installed-files-template': manifestJson.installedFilesTemplate ?? [],
    'rename-installed-files': manifestJson.renameFiles ?? {},
    'rpm-installed': null,
    'system-package': 'no',
    remote: null,
    'use-links': true,
    runtime: o.runtimePath,
  };
  await writeFile(path.join(dest, 'info'), `${JSON.stringify(info, null, 4)}\n`);
  await symlink(dest, path.join(o.root, o.name));
  await mkdir(o.unitDir, { recursive: true });
  await mkdir(o.tmpfilesDir, { recursive: true });
  await cp(path.join(dest, `${o.name}.service`), path.join(o.unitDir, `${o.name}.service`));
  await cp(path.join(dest, `tmpfiles-${o.name}.conf`), path.join(o.tmpfilesDir, `${o.name}.conf`));
  return { values, installed };
}
