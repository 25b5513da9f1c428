// Declaring containers in files: apply, delete -f, generate kube. The operations are app's
// (app/apply/); here the options are read and the lines printed: results on stdout, the
// problems of the files on stderr, one line each.
import { applyFiles, deleteConfig, generateKubeYaml, SyscontainerError, type ApplyEvents, type ApplyResult, type DeclarationProblem } from '../../app/index.js';
import { stringList, stringOption } from '../arguments.js';
import type { Command } from '../command.js';
import type { Output } from '../output.js';
import { pullProgress } from './pull-progress.js';
import { runtimeOptions } from './runtime-options.js';

function events(out: Output): ApplyEvents {
  return { log: (line) => out.info(line), onPull: pullProgress(out), onLine: (line) => out.result(line), onWarning: (line) => out.warn(line) };
}

function problemText(p: DeclarationProblem): string {
  return `${p.where}: ${p.field === '' ? '' : `${p.field}: `}${p.message}`;
}

/** Problems in the files: each on its own line, then one error saying nothing changed. */
function finish(out: Output, result: ApplyResult): number {
  if (result.errors.length > 0) {
    for (const problem of result.errors) out.errorLine(problemText(problem));
    throw new SyscontainerError('EINVAL', `nothing was changed: ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} in the files`);
  }
  return result.failed > 0 ? 1 : 0;
}

const files = { type: 'string', short: 'f', multiple: true, placeholder: 'PATH', description: 'a file, a directory of .yaml/.yml/.json files, or - for stdin (repeatable)' } as const;
const configId = { type: 'string', placeholder: 'ID', description: 'the config id that owns the containers (default: the base name of the first PATH)' } as const;

const apply: Command = {
  name: ['apply'],
  summary: 'make the host run the containers that Kubernetes pod or paunch files declare, and only those',
  usage: '-f PATH [-f PATH]... [--config-id ID] [--dry-run] [--no-prune] [--pull] [--privileged] [--ignore-unsupported] | --config-id ID --delete',
  progress: true,
  options: {
    file: files,
    'config-id': configId,
    'dry-run': { type: 'boolean', description: 'print the plan and change nothing' },
    'no-prune': { type: 'boolean', description: 'keep containers of this config id that the files no longer declare' },
    prune: { type: 'boolean', description: 'remove containers of this config id that the files no longer declare (the default)' },
    pull: { type: 'boolean', description: 'pull every image first, so a moved tag is seen' },
    privileged: { type: 'boolean', description: 'grant what the files ask for beyond the default confinement (privileged, capabilities, host namespaces, read-write host paths)' },
    'ignore-unsupported': { type: 'boolean', description: 'warn about unsupported fields and drop them, instead of refusing the files' },
    delete: { type: 'boolean', description: 'remove every container the config id owns' },
    ...runtimeOptions,
  },
  async run({ app, out, options }) {
    const paths = stringList(options, 'file');
    const id = stringOption(options, 'config-id');
    if (options.delete === true) {
      if (id === undefined) throw new SyscontainerError('EUSAGE', 'apply --delete needs --config-id ID');
      return finish(out, await deleteConfig(app, { configId: id }, events(out)));
    }
    if (paths.length === 0) throw new SyscontainerError('EUSAGE', 'apply needs -f PATH');
    const result = await applyFiles(
      app,
      {
        files: paths,
        ...(id !== undefined ? { configId: id } : {}),
        dryRun: options['dry-run'] === true,
        prune: options['no-prune'] !== true,
        pull: options.pull === true,
        privileged: options.privileged === true,
        ignoreUnsupported: options['ignore-unsupported'] === true,
        stdin: process.stdin,
      },
      events(out),
    );
    return finish(out, result);
  },
};

const remove: Command = {
  name: ['delete'],
  summary: 'remove every container that apply made from these files (their config id)',
  usage: '-f PATH [-f PATH]... | --config-id ID',
  options: { file: files, 'config-id': configId, ...runtimeOptions },
  async run({ app, out, options }) {
    const paths = stringList(options, 'file');
    const id = stringOption(options, 'config-id');
    if (paths.length === 0 && id === undefined) throw new SyscontainerError('EUSAGE', 'delete needs -f PATH or --config-id ID');
    return finish(out, await deleteConfig(app, { ...(id !== undefined ? { configId: id } : {}), files: paths }, events(out)));
  },
};

const generateKube: Command = {
  name: ['generate', 'kube'],
  summary: 'write the Kubernetes YAML of installed containers (for podman kube play, a kubelet, or apply elsewhere)',
  usage: '[--type pod|daemonset|deployment] [--pin-digests] NAME...',
  options: {
    type: { type: 'string', placeholder: 'TYPE', description: 'pod (default), daemonset or deployment' },
    'pin-digests': { type: 'boolean', description: 'name images by digest (REPO@sha256:…) instead of tag' },
    ...runtimeOptions,
  },
  async run({ app, out, args, options }) {
    if (args.length === 0) throw new SyscontainerError('EUSAGE', 'generate kube needs at least one container NAME');
    const type = stringOption(options, 'type') ?? 'pod';
    if (type !== 'pod' && type !== 'daemonset' && type !== 'deployment') throw new SyscontainerError('EUSAGE', `--type ${type}: expected pod, daemonset or deployment`);
    const result = await generateKubeYaml(app, { names: args, kind: type, pinDigests: options['pin-digests'] === true });
    for (const warning of result.warnings) out.warn(warning);
    out.stream(result.yaml);
  },
};

export const applyCommands: Command[] = [apply, remove, generateKube];
