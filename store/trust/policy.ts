// containers-policy.json(5): the file skopeo, podman, CRI-O and Atomic read to decide whether
// an image may be used. Parsed as strictly as containers/image does: an unknown, misspelt or
// mistyped field refuses the whole file (naming the field), because a typo in a security
// policy must never silently loosen it. Pure: bytes in, a Policy or an ECONFIG error out.
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { isValidRegistryHost, parseReference } from '../oci/reference.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export type IdentityRule =
  | { type: 'matchExact' }
  | { type: 'matchRepoDigestOrExact' }
  | { type: 'matchRepository' }
  | { type: 'exactReference'; dockerReference: string }
  | { type: 'exactRepository'; dockerRepository: string }
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

/** Where trusted keys come from: exactly one of a file, several files, or inline data. */
export type KeySource = { keyPath: string } | { keyPaths: string[] } | { keyData: Buffer } | { keyDatas: Buffer[] };

export type Requirement =
  | { type: 'insecureAcceptAnything' }
  | { type: 'reject' }
  | { type: 'signedBy'; keyType: string; keys: KeySource; signedIdentity: IdentityRule }
  | {
      type: 'sigstoreSigned';
      /** Absent when the requirement uses Fulcio or a PKI instead of public keys. */
      keys: KeySource | undefined;
      /** Fulcio, PKI and Rekor checks the policy asks for (not verified by this version). */
      unsupported: string[];
      signedIdentity: IdentityRule;
    }
  | { type: 'signedBaseLayer' };

export type RequirementType = Requirement['type'];

export interface Policy {
  default: Requirement[];
  /** transport → scope → requirements; "" is the transport's default. */
  transports: Record<string, Record<string, Requirement[]>>;
}

const requirementTypes: readonly RequirementType[] = ['insecureAcceptAnything', 'reject', 'signedBy', 'sigstoreSigned', 'signedBaseLayer'];
const identityTypes: readonly IdentityRule['type'][] = ['matchExact', 'matchRepoDigestOrExact', 'matchRepository', 'exactReference', 'exactRepository', 'remapIdentity'];
/** keyType values containers/image knows; only GPGKeys is implemented there and here. */
const keyTypes = ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'] as const;

const base64 = builtOnFirstUse(() => z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64').transform((text) => Buffer.from(text, 'base64')));
const path = builtOnFirstUse(() => z.string().min(1, 'must not be empty'));

const identitySchemas = builtOnFirstUse(() => ({
  matchExact: z.strictObject({ type: z.literal('matchExact') }),
  matchRepoDigestOrExact: z.strictObject({ type: z.literal('matchRepoDigestOrExact') }),
  matchRepository: z.strictObject({ type: z.literal('matchRepository') }),
  exactReference: z.strictObject({
    type: z.literal('exactReference'),
    dockerReference: z.string().refine((text) => isReference(text, 'tagged'), 'not a reference with a tag or digest'),
  }),
  exactRepository: z.strictObject({
    type: z.literal('exactRepository'),
    dockerRepository: z.string().refine((text) => isReference(text, 'any'), 'not a repository name'),
  }),
  remapIdentity: z.strictObject({
    type: z.literal('remapIdentity'),
    prefix: z.string().refine(isRemapPrefix, 'not a host[:port], namespace or repository'),
    signedPrefix: z.string().refine(isRemapPrefix, 'not a host[:port], namespace or repository'),
  }),
} satisfies Record<IdentityRule['type'], z.ZodType>));

const fulcio = builtOnFirstUse(() => z.strictObject({ caPath: z.string().optional(), caData: base64.optional(), oidcIssuer: z.string(), subjectEmail: z.string() }));
const pki = builtOnFirstUse(() => z.strictObject({
  caRootsPath: z.string().optional(),
  caRootsData: base64.optional(),
  caIntermediatesPath: z.string().optional(),
  caIntermediatesData: base64.optional(),
  subjectEmail: z.string().optional(),
  subjectHostname: z.string().optional(),
}));

const requirementSchemas = builtOnFirstUse(() => ({
  insecureAcceptAnything: z.strictObject({ type: z.literal('insecureAcceptAnything') }),
  reject: z.strictObject({ type: z.literal('reject') }),
  signedBy: z.strictObject({
    type: z.literal('signedBy'),
    keyType: z.enum(keyTypes),
    keyPath: path.optional(),
    keyPaths: z.array(path).optional(),
    keyData: base64.optional(),
    signedIdentity: z.unknown().optional(),
  }),
  sigstoreSigned: z.strictObject({
    type: z.literal('sigstoreSigned'),
    keyPath: path.optional(),
    keyPaths: z.array(path).min(1).optional(),
    keyData: base64.optional(),
    keyDatas: z.array(base64).min(1).optional(),
    fulcio: fulcio.optional(),
    pki: pki.optional(),
    rekorPublicKeyPath: path.optional(),
    rekorPublicKeyPaths: z.array(path).optional(),
    rekorPublicKeyData: base64.optional(),
    rekorPublicKeyDatas: z.array(base64).optional(),
    signedIdentity: z.unknown().optional(),
  }),
  signedBaseLayer: z.strictObject({ type: z.literal('signedBaseLayer'), baseLayerIdentity: z.unknown() }),
} satisfies Record<RequirementType, z.ZodType>));

/** A located fault: `transports.docker["127.0.0.1:5000"][0].keyPth`. */
class PolicyFault extends Error {
  constructor(
    readonly where: string,
    readonly fault: string,
  ) {
    super(fault);
  }
}

function at(where: string, key: string | number): string {
  if (typeof key === 'number') return `${where}[${key}]`;
  return /^[A-Za-z_][\w-]*$/.test(key) ? (where === '' ? key : `${where}.${key}`) : `${where}[${JSON.stringify(key)}]`;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const place = issue.path.reduce<string>((w, key) => at(w, key as string | number), where);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
    throw new PolicyFault(place, `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`);
  }
  const found = issue.path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined), value);
  if (found === undefined) throw new PolicyFault(place, 'is missing');
  throw new PolicyFault(place, issue.message);
}

function typeOf(value: unknown, where: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PolicyFault(where, 'must be an object');
  const type = (value as { type?: unknown }).type;
  if (type === undefined) throw new PolicyFault(at(where, 'type'), 'is missing');
  if (typeof type !== 'string') throw new PolicyFault(at(where, 'type'), 'must be a string');
  return type;
}

function parseIdentity(value: unknown, where: string): IdentityRule {
  if (value === undefined) return { type: 'matchRepoDigestOrExact' };
  const type = typeOf(value, where);
  if (!(identityTypes as readonly string[]).includes(type)) throw new PolicyFault(at(where, 'type'), `unknown signedIdentity type ${JSON.stringify(type)}`);
  return parseWith(identitySchemas[type as IdentityRule['type']] as z.ZodType<IdentityRule>, value, where);
}

/** Exactly one key source; `names` lists the fields the requirement type allows. */
function keySource(fields: Partial<Record<'keyPath' | 'keyPaths' | 'keyData' | 'keyDatas', unknown>>, names: string[], where: string, required: boolean): KeySource | undefined {
  const present = names.filter((name) => fields[name as keyof typeof fields] !== undefined);
  if (present.length > 1) throw new PolicyFault(where, `exactly one of ${names.join(', ')} may be given (got ${present.join(' and ')})`);
  if (present.length === 0) {
    if (required) throw new PolicyFault(where, `one of ${names.join(', ')} is required`);
    return undefined;
  }
  const name = present[0] as keyof typeof fields;
  return { [name]: fields[name] } as KeySource;
}

function parseRequirement(value: unknown, where: string): Requirement {
  const type = typeOf(value, where);
  if (!(requirementTypes as readonly string[]).includes(type)) throw new PolicyFault(at(where, 'type'), `unknown requirement type ${JSON.stringify(type)}`);
  switch (type as RequirementType) {
    case 'insecureAcceptAnything':
    case 'reject':
      return parseWith(requirementSchemas[type as 'reject'], value, where);
    case 'signedBaseLayer':
      parseWith(requirementSchemas.signedBaseLayer, value, where);
      return { type: 'signedBaseLayer' };
    case 'signedBy': {
      const parsed = parseWith(requirementSchemas.signedBy, value, where);
      const keys = keySource(parsed, ['keyPath', 'keyPaths', 'keyData'], where, true)!;
      return { type: 'signedBy', keyType: parsed.keyType, keys, signedIdentity: parseIdentity(parsed.signedIdentity, at(where, 'signedIdentity')) };
    }
    case 'sigstoreSigned': {
      const parsed = parseWith(requirementSchemas.sigstoreSigned, value, where);
      const keys = keySource(parsed, ['keyPath', 'keyPaths', 'keyData', 'keyDatas'], where, false);
      const roots = [keys !== undefined, parsed.fulcio !== undefined, parsed.pki !== undefined].filter(Boolean).length;
      if (roots !== 1) throw new PolicyFault(where, 'exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be given');
      const rekor = (['rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas'] as const).filter((name) => parsed[name] !== undefined);
      if (rekor.length > 1) throw new PolicyFault(where, `at most one of the rekorPublicKey fields may be given (got ${rekor.join(' and ')})`);
      if (parsed.fulcio !== undefined && rekor.length === 0) throw new PolicyFault(where, 'fulcio needs a rekorPublicKey');
      const unsupported = [...(parsed.fulcio ? ['fulcio'] : []), ...(parsed.pki ? ['pki'] : []), ...rekor];
      return { type: 'sigstoreSigned', keys, unsupported, signedIdentity: parseIdentity(parsed.signedIdentity, at(where, 'signedIdentity')) };
    }
  }
}

function parseRequirements(value: unknown, where: string): Requirement[] {
  if (!Array.isArray(value)) throw new PolicyFault(where, 'must be a list of requirements');
  if (value.length === 0) throw new PolicyFault(where, 'the list of requirements must not be empty');
  return value.map((item, index) => parseRequirement(item, at(where, index)));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `scope` can never name an image of `transport`, or undefined when it can. */
export function scopeFault(transport: string, scope: string): string | undefined {
  if (scope === '') return undefined;
  switch (transport) {
    case 'oci':
    case 'oci-archive':
    case 'dir':
      if (!scope.startsWith('/')) return 'must be an absolute path';
      if (scope === '/') return 'must not be "/" (use the transport default "")';
      if (scope.split('/').some((part, index) => (index > 0 && part === '') || part === '.' || part === '..')) return 'must be a clean path (no //, . or ..)';
      return undefined;
    case 'docker-archive':
      return 'only the default scope "" is supported for docker-archive';
    default:
      // docker and transports we do not read: any string, as containers/image accepts
      // (an entry that matches nothing is harmless); `trust set` checks docker scopes itself.
      return undefined;
  }
}

/**
 * Parses policy.json bytes. `source` names the file in errors:
 * `policy /etc/containers/policy.json: transports.docker["x"][0]: unknown key "keyPth"`.
 */
export function parsePolicy(bytes: Buffer | string, source: string): Policy {
  const fail = (where: string, fault: string): never => {
    throw new SyscontainerError('ECONFIG', `policy ${source}: ${where === '' ? '' : `${where}: `}${fault}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (error) {
    return fail('', `not valid JSON (${(error as Error).message})`);
  }
  try {
    if (!isPlainObject(doc)) throw new PolicyFault('', 'must be a JSON object');
    const unknown = Object.keys(doc).filter((key) => key !== 'default' && key !== 'transports');
    if (unknown.length > 0) throw new PolicyFault('', `unknown key ${JSON.stringify(unknown[0])}`);
    if (doc.default === undefined) throw new PolicyFault('default', 'is missing (the global default requirements are mandatory)');
    const policy: Policy = { default: parseRequirements(doc.default, 'default'), transports: {} };
    if (doc.transports !== undefined) {
      if (!isPlainObject(doc.transports)) throw new PolicyFault('transports', 'must be an object');
      for (const [transport, scopes] of Object.entries(doc.transports)) {
        const where = at('transports', transport);
        if (!isPlainObject(scopes)) throw new PolicyFault(where, 'must be an object of scopes');
        const parsed: Record<string, Requirement[]> = {};
        for (const [scope, requirements] of Object.entries(scopes)) {
          const fault = scopeFault(transport, scope);
          if (fault !== undefined) throw new PolicyFault(at(where, scope), `invalid scope: ${fault}`);
          parsed[scope] = parseRequirements(requirements, at(where, scope));
        }
        policy.transports[transport] = parsed;
      }
    }
    return policy;
  } catch (error) {
    if (error instanceof PolicyFault) return fail(error.where, error.fault);
    throw error;
  }
}

function isReference(text: string, kind: 'tagged' | 'any'): boolean {
  try {
    const ref = parseReference(text);
    return kind === 'any' || ref.tag !== undefined || ref.digest !== undefined;
  } catch {
    return false;
  }
}

/** host[:port], or a fully-qualified namespace or repository (no tag, no digest). */
function isRemapPrefix(text: string): boolean {
  const [host, ...path] = text.split('/');
  if (host === undefined || !isValidRegistryHost(host)) return false;
  if (path.length > 0 && !host.includes('.') && !host.includes(':') && host !== 'localhost') return false;
  return path.every((component) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(component));
}
