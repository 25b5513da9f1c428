// `trust show` and `trust set`, like `podman image trust` and `atomic trust`: the signature
// policy (containers-policy.json) that every pull is checked against.
import { setTrust, showTrust, SyscontainerError, trustTypes, type PolicySummary, type ScopeSummary, type TrustType } from '../../app/index.js';
import type { Command } from '../command.js';
import { jsonOption, type Output } from '../output.js';

const typeNames: Record<string, string> = { insecureAcceptAnything: 'accept', reject: 'reject', signedBy: 'signedBy', sigstoreSigned: 'sigstoreSigned', signedBaseLayer: 'signedBaseLayer' };

function rows(scope: ScopeSummary): string[][] {
  return scope.requirements.map((requirement, index) => [
    index === 0 ? scope.name : '',
    typeNames[requirement.type] ?? requirement.type,
    requirement.keys?.join(', ') ?? '-',
    requirement.signedIdentity ?? '-',
    requirement.type === 'sigstoreSigned'
      ? scope.sigstoreAttachments === false
        ? 'attachments (not enabled in registries.d)'
        : scope.transport === 'docker'
          ? 'attachments'
          : '-'
      : requirement.type === 'signedBy'
        ? (scope.lookaside ?? (scope.transport === 'docker' ? '-' : 'none (local images carry no signatures)'))
        : '-',
  ]);
}

const show: Command = {
  name: ['trust', 'show'],
  summary: 'show the signature policy pulls are checked against, per scope',
  usage: '[--json]',
  options: jsonOption,
  async run({ app, out, args, options }) {
    if (args.length > 0) throw new SyscontainerError('EUSAGE', `trust show takes no arguments (got ${args[0]})`);
    const summary = await showTrust(app);
    out.jsonOr(options, summary, () => printTrust(out, summary));
  },
};

/** trust show for a person: the policy file, then a row per scope and requirement. */
function printTrust(out: Output, summary: PolicySummary): void {
  if (summary.policy === null) {
    out.result(`No signature policy (looked for ${summary.searched.join(', ')}): images are not verified.`);
    out.result('Set one with: syscontainer trust set --type signedBy --pubkeysfile KEY.gpg REGISTRY[/REPOSITORY]');
    return;
  }
  out.result(`Policy: ${summary.policy}`);
  out.table(['SCOPE', 'TYPE', 'KEYS', 'IDENTITY', 'SIGNATURES FROM'], summary.scopes.flatMap(rows));
  const unsupported = summary.scopes.flatMap((scope) => scope.requirements.flatMap((requirement) => (requirement.unsupported ?? []).map((what) => `${scope.name}: ${what}`)));
  if (unsupported.length > 0) out.info(`not verified by this version, images in these scopes are refused: ${unsupported.join('; ')}`);
}

const set: Command = {
  name: ['trust', 'set'],
  summary: 'set the requirements of one policy scope (default, REGISTRY[/REPOSITORY[:TAG]], oci:/PATH)',
  usage: '--type accept|reject|signedBy|sigstoreSigned [--pubkeysfile FILE]... SCOPE',
  options: {
    type: { type: 'string', short: 't', placeholder: 'TYPE', description: 'accept, reject, signedBy or sigstoreSigned' },
    pubkeysfile: { type: 'string', short: 'f', multiple: true, placeholder: 'FILE', description: 'a public key file (GPG for signedBy, PEM for sigstoreSigned)' },
  },
  async run({ app, out, args, options }) {
    const [scope, ...extra] = args;
    if (scope === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'trust set takes exactly one SCOPE');
    const type = options.type;
    if (typeof type !== 'string') throw new SyscontainerError('EUSAGE', `trust set needs --type (${trustTypes.join(', ')})`);
    const keys = Array.isArray(options.pubkeysfile) ? options.pubkeysfile.map(String) : [];
    const path = await setTrust(app, { scope, type: type as TrustType, keys });
    out.result(`${scope}: ${type}${keys.length > 0 ? ` (${keys.join(', ')})` : ''} written to ${path}`);
  },
};

export const trustCommands: Command[] = [show, set];
