import { formatPlatform, ImageStore, readImageFiles, recheckTrust, type StoredImage, type TrustRecord } from '../../store/index.js';
import { SyscontainerError } from '../../common/errors.js';
import type { Command } from '../command.js';
import { describeTemplateVariables, exportTemplateFiles, list as listContainers, rootfsInUse, type TemplateVariable } from '../../runtime/index.js';
import { runtimeContext } from '../runtime-context.js';
import { formatAge, formatBytes, shortId } from '../format.js';

function oneImage(args: string[], command: string): string {
  const [image, ...extra] = args;
  if (image === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', `images ${command} takes exactly one IMAGE`);
  return image;
}

async function findImage(store: ImageStore, name: string): Promise<StoredImage> {
  const image = await store.getImage(name);
  if (!image) throw new SyscontainerError('ENOTFOUND', `image ${name} is not in the store`, { hint: `pull it first: syscontainer pull ${name}` });
  return image;
}

/** REGISTRY/REPO:TAG → [REGISTRY/REPO, TAG]; digest-only names get TAG "<none>". */
function splitName(name: string): [string, string] {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return [base.slice(0, colon), base.slice(colon + 1)];
  return [base, '<none>'];
}

/** The variables the image's /exports templates use; no templates, no variables. */
async function exportVariables(store: ImageStore, image: StoredImage): Promise<{ templates: string[]; list: TemplateVariable[] }> {
  const files = await readImageFiles(store, image, '/exports', [...exportTemplateFiles, 'manifest.json']);
  const templates = new Map<string, string>();
  for (const name of exportTemplateFiles) {
    const bytes = files.get(name);
    if (bytes) templates.set(name, bytes.toString('utf8'));
  }
  let defaultValues: Record<string, unknown> = {};
  const manifest = files.get('manifest.json');
  if (manifest) {
    try {
      const parsed = JSON.parse(manifest.toString('utf8')) as { defaultValues?: unknown };
      if (parsed.defaultValues && typeof parsed.defaultValues === 'object') defaultValues = parsed.defaultValues as Record<string, unknown>;
    } catch (error) {
      throw new SyscontainerError('ETEMPLATE', `image ${image.name}: /exports/manifest.json is not valid JSON`, { cause: error });
    }
  }
  return { templates: [...templates.keys()], list: describeTemplateVariables(templates, defaultValues) };
}

const list: Command = {
  name: ['images', 'list'],
  summary: 'list stored images (--all: also those whose stored content cannot be read)',
  usage: '[--all] [--json]',
  options: { json: { type: 'boolean' }, all: { type: 'boolean' } },
  async run({ settings, out, args, options }) {
    if (args.length > 0) throw new SyscontainerError('EUSAGE', `images list takes no arguments (got ${args[0]})`);
    const store = new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs });
    const images = await store.listImages();
    const readable = new Set(images.map((image) => image.name));
    const broken = options.all ? (await store.imageNames()).filter((name) => !readable.has(name)) : [];
    if (options.json) {
      const listed: Record<string, unknown>[] = images.map((image) => ({
          name: image.name,
          id: image.configDigest,
          digest: image.manifestDigest,
          created: image.created ?? null,
          size: image.size,
          platform: formatPlatform({ os: image.config.os, architecture: image.config.architecture, variant: image.config.variant }),
      }));
      out.json([...listed, ...broken.map((name) => ({ name, broken: true }))]);
      return;
    }
    out.table(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      [
        ...images.map((image) => [...splitName(image.name), shortId(image.configDigest), formatAge(image.created), formatBytes(image.size)]),
        ...broken.map((name) => [...splitName(name), '<broken>', '-', '-']),
      ],
    );
    if (broken.length > 0) out.info(`${broken.length} image(s) cannot be read: run images verify NAME, or pull them again`);
  },
};

const info: Command = {
  name: ['images', 'info'],
  summary: 'show an image: labels, platform, layers, template variables',
  usage: '[--json] IMAGE',
  options: { json: { type: 'boolean' } },
  async run({ settings, out, args, options }) {
    const store = new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs });
    const image = await findImage(store, oneImage(args, 'info'));
    const variables = await exportVariables(store, image);
    const details = {
      name: image.name,
      id: image.configDigest,
      digest: image.manifestDigest,
      created: image.created ?? null,
      platform: formatPlatform({ os: image.config.os, architecture: image.config.architecture, variant: image.config.variant }),
      labels: image.config.config?.Labels ?? {},
      entrypoint: image.config.config?.Entrypoint ?? null,
      cmd: image.config.config?.Cmd ?? null,
      env: image.config.config?.Env ?? [],
      layers: image.layers.map((layer) => ({ digest: layer.digest, size: layer.size, uncompressedSize: layer.uncompressedSize })),
      templates: variables.templates,
      variables: variables.list,
      trust: image.trust ?? null,
    };
    if (options.json) return out.json(details);
    out.result(`Image:      ${details.name}`);
    out.result(`Image ID:   ${details.id}`);
    out.result(`Digest:     ${details.digest}`);
    out.result(`Created:    ${details.created ?? '-'}`);
    out.result(`Platform:   ${details.platform}`);
    out.result(`Command:    ${JSON.stringify([...(details.entrypoint ?? []), ...(details.cmd ?? [])])}`);
    out.result('Labels:');
    for (const [key, value] of Object.entries(details.labels)) out.result(`  ${key}=${value}`);
    out.result(`Signatures: ${describeTrustRecord(details.trust)}`);
    out.result('Layers:');
    for (const layer of details.layers) out.result(`  ${layer.digest}  ${formatBytes(layer.size)} (${formatBytes(layer.uncompressedSize)} uncompressed)`);
    if (details.templates.length === 0) {
      out.result('Templates:  none under /exports (syscontainer renders its own from the image config)');
      return;
    }
    out.result(`Templates:  ${details.templates.map((file) => `/exports/${file}`).join(', ')}`);
    const kinds: [string, string][] = [['installer', 'Set by the installer'], ['default', 'With defaults (--set to change)'], ['required', 'Required (give with --set NAME=VALUE)']];
    for (const [kind, title] of kinds) {
      const of = details.variables.filter((variable) => variable.kind === kind);
      if (of.length === 0) continue;
      out.result(`${title}:`);
      for (const variable of of) out.result(`  ${variable.name}${variable.default !== undefined ? `=${variable.default}` : ''}`);
    }
  },
};

/** Who signed the image under which name, by which policy scope; "none verified" otherwise (details in --json). */
function describeTrustRecord(record: TrustRecord | null): string {
  if (record === null || record.signatures.length === 0) return 'none verified';
  const signers = record.signatures.map((signature) => `signed by ${signature.key} (${signature.keySource}) as ${signature.identity}`);
  return `${signers.join('; ')} for ${shortId(record.digest)} (policy scope ${record.scope}, ${record.policy}, ${record.verifiedAt})`;
}

const remove: Command = {
  name: ['images', 'delete'],
  summary: 'remove an image from the store (its content goes at the next prune); refused while a container uses it',
  usage: '[--force] IMAGE',
  options: { force: { type: 'boolean' } },
  async run({ settings, out, args, options }) {
    const { store, ctx } = runtimeContext(settings, options, out);
    const image = await findImage(store, oneImage(args, 'delete'));
    const users = (await listContainers(ctx)).filter((container) => container.imageId === image.configDigest || container.image === image.name);
    if (users.length > 0 && !options.force) {
      throw new SyscontainerError('EINVAL', `image ${image.name} is used by container(s) ${users.map((c) => c.name).join(', ')}`, {
        hint: 'uninstall them first, or delete with --force (their deployments keep their files)',
      });
    }
    // Its rootfs goes too, unless a deployment (kept by --force) still runs from it.
    await store.deleteImage(image.name, rootfsInUse(settings.root));
    out.result(`deleted ${image.name}`);
  },
};

const prune: Command = {
  name: ['images', 'prune'],
  summary: 'remove content that no image and no installed container uses',
  usage: '',
  async run({ settings, out }) {
    const report = await new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs }).prune({ rootfsInUse: rootfsInUse(settings.root), onWait: (message) => out.info(message) });
    out.result(`removed ${report.removedRefs.length} unused blob(s)${report.removedRootfs.length > 0 ? ` and ${report.removedRootfs.length} unused rootfs` : ''}`);
  },
};

const verify: Command = {
  name: ['images', 'verify'],
  summary: "re-check a stored image: content against its digests, signatures against today's policy",
  usage: 'IMAGE',
  async run({ settings, out, args }) {
    const store = new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs });
    const image = await findImage(store, oneImage(args, 'verify'));
    const report = await store.verifyImage(image.name);
    const trust = await recheckTrust(image, settings);
    const problems = [...report.problems, ...(trust.status === 'refused' ? [`signatures: ${trust.reason}`] : [])];
    if (trust.status === 'accepted') {
      const { record } = trust;
      out.result(`${image.name}: signatures: ${record.signatures.length > 0 ? describeTrustRecord(record) : `none required (policy scope ${record.scope}: ${record.requirements.join(', ')})`}`);
    }
    if (trust.status === 'no-policy') out.result(`${image.name}: signatures: not checked (no signature policy)`);
    if (problems.length === 0) {
      out.result(`${image.name}: ok`);
      return 0;
    }
    for (const problem of problems) out.result(`${image.name}: ${problem}`);
    return 1;
  },
};

export const images: Command[] = [list, info, remove, prune, verify];
