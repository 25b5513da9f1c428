// The stored images: list, info, delete, prune, verify.
import { deleteImage, describeImage, imageFilterKeys, listImages, pruneImages, splitImageName, SyscontainerError, tagImage, verifyImage, type ImageDetails, type TrustRecord } from '../../app/index.js';
import { onlyArgument, stringList } from '../arguments.js';
import type { Command } from '../command.js';
import { formatAge, formatBytes, shortId } from '../format.js';
import { jsonOption, type Output } from '../output.js';

const list: Command = {
  name: ['images', 'list'],
  summary: 'list stored images (> marks those a container runs; --all: layers and unreadable images too)',
  usage: '[-a|--all] [-q|--quiet] [--no-trunc] [-f|--filter KEY=VALUE]... [--json]',
  options: {
    ...jsonOption,
    all: { type: 'boolean', short: 'a', description: "also the stored layers (as <none>, atomic's intermediate images) and images whose stored content cannot be read" },
    quiet: { type: 'boolean', short: 'q', description: 'print the image ids only' },
    'no-trunc': { type: 'boolean', description: 'do not shorten image ids' },
    filter: { type: 'string', short: 'f', multiple: true, placeholder: 'KEY=VALUE', description: `only images whose KEY contains VALUE; KEY one of ${imageFilterKeys.join(', ')}` },
  },
  async run({ app, out, args, options }) {
    if (args.length > 0) throw new SyscontainerError('EUSAGE', `images list takes no arguments (got ${args[0]})`);
    const { images, unreadable, layers, inUse } = await listImages(app, { all: options.all === true, filters: stringList(options, 'filter') });
    const used = new Set(inUse);
    // Layers are not images: the JSON lists images (and, with --all, the unreadable ones) only.
    const json = [...images.map((image) => ({ ...image, inUse: used.has(image.id) })), ...unreadable.map((name) => ({ name, broken: true }))];
    out.jsonOr(options, json, () => {
      const id = (digest: string) => (options['no-trunc'] === true ? digest : shortId(digest));
      if (options.quiet) {
        for (const image of images) out.result(id(image.id));
        for (const layer of layers) out.result(id(layer));
        return;
      }
      // Atomic's marker: `>` before the name of an image an installed container runs.
      const repository = (image: { name: string; id: string }) => `${used.has(image.id) ? '> ' : ''}${splitImageName(image.name)[0]}`;
      out.table(
        ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        [
          ...images.map((image) => [repository(image), splitImageName(image.name)[1], id(image.id), formatAge(image.created ?? undefined), formatBytes(image.size)]),
          ...unreadable.map((name) => [...splitImageName(name), '<broken>', '-', '-']),
          ...layers.map((layer) => ['<none>', '<none>', id(layer), '-', '-']),
        ],
      );
      if (unreadable.length > 0) out.info(`${unreadable.length} image(s) cannot be read: run images verify NAME, or pull them again`);
    });
  },
};

const tag: Command = {
  name: ['images', 'tag'],
  summary: 'give a stored image another name (a second ref to the same content, no copy)',
  usage: 'IMAGE NAME[:TAG]',
  async run({ app, out, args }) {
    const [source, target, ...extra] = args;
    if (source === undefined || target === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'images tag takes IMAGE and NAME[:TAG]');
    const result = await tagImage(app, { source, target });
    out.result(`tagged ${result.source} as ${result.target}`);
  },
};

const info: Command = {
  name: ['images', 'info'],
  summary: 'show an image: labels, platform, layers, template variables',
  usage: '[--json] IMAGE',
  options: jsonOption,
  async run({ app, out, args, options }) {
    const details = await describeImage(app, { image: onlyArgument(args, 'images info', 'IMAGE') });
    out.jsonOr(options, details, () => printImageDetails(out, details));
  },
};

/** images info for a person: the image, then its /exports templates and their variables. */
function printImageDetails(out: Output, details: ImageDetails): void {
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
}

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
  options: { force: { type: 'boolean', description: 'delete it even while containers use it (they keep running from its rootfs)' } },
  async run({ app, out, args, options }) {
    const result = await deleteImage(app, { image: onlyArgument(args, 'images delete', 'IMAGE'), force: options.force === true });
    out.result(`deleted ${result.name}`);
  },
};

const prune: Command = {
  name: ['images', 'prune'],
  summary: 'remove content that no image and no installed container uses',
  usage: '',
  async run({ app, out }) {
    const report = await pruneImages(app, { log: (line) => out.info(line) });
    out.result(`removed ${report.removedRefs.length} unused blob(s)${report.removedRootfs.length > 0 ? ` and ${report.removedRootfs.length} unused rootfs` : ''}`);
  },
};

const verify: Command = {
  name: ['images', 'verify'],
  summary: "re-check a stored image: content against its digests, signatures against today's policy",
  usage: 'IMAGE',
  async run({ app, out, args }) {
    const { report, trust } = await verifyImage(app, { image: onlyArgument(args, 'images verify', 'IMAGE') });
    const problems = [...report.problems, ...(trust.status === 'refused' ? [`signatures: ${trust.reason}`] : [])];
    if (trust.status === 'accepted') {
      const { record } = trust;
      out.result(`${report.name}: signatures: ${record.signatures.length > 0 ? describeTrustRecord(record) : `none required (policy scope ${record.scope}: ${record.requirements.join(', ')})`}`);
    }
    if (trust.status === 'no-policy') out.result(`${report.name}: signatures: not checked (no signature policy)`);
    if (problems.length === 0) {
      out.result(`${report.name}: ok`);
      return 0;
    }
    for (const problem of problems) out.result(`${report.name}: ${problem}`);
    return 1;
  },
};

export const images: Command[] = [list, info, tag, remove, prune, verify];
