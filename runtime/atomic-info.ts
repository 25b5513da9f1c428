// Deployments that atomic itself wrote (Atomic/syscontainers.py, _write_info_file): their
// `info` has atomic's keys (image, revision, ostree-commit, created, values,
// has-container-service, installed-files-checksum, remote, runtime, …), not ours. They are
// read into our DeploymentInfo with `origin: 'atomic'`, so a host atomic managed is listed,
// started, stopped, updated, rolled back and uninstalled like any other; the next update
// writes our record, with the values (UUID included) and host file checksums kept.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { emptyDirectory } from './host-files.js';
import { installerVariables } from './values.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

const atomicInfoSchema = builtOnFirstUse(() => z.object({
  image: z.string().min(1),
  /** The image's manifest digest, hex (docker.digest of its ostree commit). */
  revision: z.string().optional(),
  'ostree-commit': z.string().optional(),
  /** Seconds since the epoch. */
  created: z.number().optional(),
  values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  'has-container-service': z.boolean().optional(),
  /** Host path → sha256 hex of the file as installed ("0" for a directory). */
  'installed-files-checksum': z.record(z.string(), z.string()).nullish(),
  /** `--rootfs` (atomic's --remote): the container location whose rootfs/ is used. */
  remote: z.string().nullish(),
  runtime: z.string().optional(),
}));

// Computed by the installer on every deployment: not the user's choice, so not kept as --set values.
const computed = new Set<string>([...installerVariables, 'UUID', 'PIDFILE', 'ALL_PROCESS_CAPABILITIES', 'RUNTIME']);

const hexDigest = (hex: string | undefined) => (hex !== undefined && /^[a-f0-9]{64}$/.test(hex) ? `sha256:${hex}` : '');

async function fileExists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * The record of slot `dir` (ROOT/NAME.N) when `raw` is an info file atomic wrote; undefined
 * when it is not one. Reads the slot's config.json for the command.
 */
export async function readAtomicInfo(dir: string, raw: unknown) {
  const parsed = atomicInfoSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const info = parsed.data;
  const name = path.basename(dir).replace(/\.[01]$/, '');
  const values = Object.fromEntries(Object.entries(info.values).map(([key, value]) => [key, String(value)]));
  let command: string[] = [];
  try {
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { process?: { args?: unknown } };
    if (Array.isArray(config.process?.args)) command = config.process.args.filter((a): a is string => typeof a === 'string');
  } catch {
    // no config.json (a host-files-only deployment): no command
  }
  const hostFiles = Object.entries(info['installed-files-checksum'] ?? {}).map(([file, checksum]) => ({
    path: file,
    digest: checksum === '0' ? emptyDirectory : `sha256:${checksum}`,
    mode: 0o644,
  }));
  const manifestDigest = hexDigest(info.revision);
  return {
    version: 1 as const,
    name,
    image: info.image,
    // Atomic kept the manifest digest only; the image id is not known here.
    imageId: manifestDigest,
    manifestDigest,
    set: Object.fromEntries(Object.entries(values).filter(([key]) => !computed.has(key))),
    values,
    created: new Date((info.created ?? 0) * 1000).toISOString(),
    runtime: info.runtime ?? values.RUNTIME ?? 'runc',
    revision: 1,
    privileged: false,
    privileges: [],
    source: 'exports' as const,
    command,
    stateDirectory: `${values.STATE_DIRECTORY ?? '/var/lib'}/${name}`,
    hasTmpfiles: await fileExists(path.join(dir, `tmpfiles-${name}.conf`)),
    exposedPorts: [],
    ...(hostFiles.length > 0 ? { hostFiles } : {}),
    ...(info['has-container-service'] === false ? { noContainerService: true } : {}),
    ...(info.remote ? { externalRootfs: path.join(info.remote, 'rootfs') } : {}),
    origin: 'atomic' as const,
  };
}
