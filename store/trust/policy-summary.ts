// `trust show`: the policy in force, one entry per scope, with where the signatures of each
// docker scope are read from (registries.d), like `podman image trust show`. Says plainly when
// there is no policy at all: then nothing is verified.
import type { IdentityRule, KeySource, Requirement } from './policy.js';
import { describeIdentityRule } from './identity-match.js';
import { signatureStorageFor, type RegistriesD } from './registries-d.js';
import { loadPolicy, loadSignatureStores, type TrustSettings } from './trust-settings.js';

export interface RequirementSummary {
  type: Requirement['type'];
  keys?: string[];
  signedIdentity?: string;
  /** Fulcio, PKI, Rekor: named in the policy, not verified by this version. */
  unsupported?: string[];
}

export interface ScopeSummary {
  transport: string;
  /** "" for a transport's default. */
  scope: string;
  /** How `trust set` and messages name it: `default`, `docker`, `docker:127.0.0.1:5000`. */
  name: string;
  requirements: RequirementSummary[];
  /** For docker scopes: the lookaside read, and whether sigstore attachments are. */
  lookaside?: string;
  sigstoreAttachments?: boolean;
}

export interface PolicySummary {
  /** The policy file in force, or null when none exists. */
  policy: string | null;
  /** False when no policy exists: images are stored without any check. */
  verified: boolean;
  /** Where a policy was looked for (when none was found). */
  searched: string[];
  scopes: ScopeSummary[];
}

function keysOf(keys: KeySource | undefined): string[] | undefined {
  if (keys === undefined) return undefined;
  if ('keyPath' in keys) return [keys.keyPath];
  if ('keyPaths' in keys) return keys.keyPaths;
  if ('keyData' in keys) return ['(keyData)'];
  return keys.keyDatas.map(() => '(keyData)');
}

function summarise(requirement: Requirement): RequirementSummary {
  const out: RequirementSummary = { type: requirement.type };
  if (requirement.type === 'signedBy' || requirement.type === 'sigstoreSigned') {
    const keys = keysOf(requirement.keys);
    if (keys !== undefined) out.keys = keys;
    out.signedIdentity = describeIdentityRule(requirement.signedIdentity as IdentityRule);
    if (requirement.type === 'sigstoreSigned' && requirement.unsupported.length > 0) out.unsupported = requirement.unsupported;
  }
  return out;
}

function dockerStorage(config: RegistriesD, scope: string): Pick<ScopeSummary, 'lookaside' | 'sigstoreAttachments'> {
  // The signatures of images under `scope`: the scope stands in for an image there, with
  // its parent namespaces (REGISTRY/NS/REPO → REGISTRY/NS → REGISTRY) as registries.d reads them.
  const namespaces: string[] = [];
  let prefix = scope.includes('/') ? scope.replace(/:[\w][\w.-]*$/, '') : scope;
  if (prefix !== scope) namespaces.push(prefix);
  while (prefix.includes('/')) {
    prefix = prefix.slice(0, prefix.lastIndexOf('/'));
    namespaces.push(prefix);
  }
  const host = scope === '' || scope.startsWith('*.') ? 'example.invalid' : scope.split('/')[0]!;
  const storage = signatureStorageFor(config, { transport: 'docker', identity: scope, namespaces, dockerReference: { registry: host, repository: '' } });
  const lookaside = new URL(storage.lookaside.href);
  lookaside.pathname = lookaside.pathname.replace(/\/$/, '');
  return { lookaside: lookaside.href, sigstoreAttachments: storage.useSigstoreAttachments };
}

export async function describeTrust(settings: TrustSettings): Promise<PolicySummary> {
  const loaded = await loadPolicy(settings);
  if (loaded === undefined) return { policy: null, verified: false, searched: settings.policyFile !== undefined ? [settings.policyFile] : settings.policySearch, scopes: [] };
  const { policy } = loaded;
  const needsStorage = Object.keys(policy.transports.docker ?? {}).length > 0;
  const registriesD = needsStorage ? await loadSignatureStores(settings) : undefined;
  const scopes: ScopeSummary[] = [{ transport: 'default', scope: '', name: 'default', requirements: policy.default.map(summarise) }];
  for (const [transport, entries] of Object.entries(policy.transports)) {
    for (const [scope, requirements] of Object.entries(entries).sort(([a], [b]) => a.localeCompare(b))) {
      const entry: ScopeSummary = { transport, scope, name: scope === '' ? transport : `${transport}:${scope}`, requirements: requirements.map(summarise) };
      if (transport === 'docker' && registriesD !== undefined) Object.assign(entry, dockerStorage(registriesD, scope));
      scopes.push(entry);
    }
  }
  return { policy: loaded.path, verified: true, searched: [], scopes };
}
