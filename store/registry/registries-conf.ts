// containers-registries.conf(5): which registries short names search, which registries are
// insecure (plain HTTP / no TLS verification), blocked, rewritten or mirrored. Version 2
// format (`[[registry]]` tables) plus the old v1 `[registries.*]` tables, and the
// `registries.conf.d/*.conf` drop-ins next to the main file. Parsing only; no network.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export const defaultRegistriesConfPath = '/etc/containers/registries.conf';
export const defaultSearchRegistries: readonly string[] = ['docker.io'];

export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface MirrorEntry {
  location: string;
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

export interface RegistryEntry {
  /** What the entry matches: `host[/path]` or `*.domain`; equals `location` when the file gave none. */
  prefix: string;
  /** Where matching names are really served (`host[/path]`); empty only for wildcard prefixes. */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorEntry[];
}

export interface RegistriesConf {
  unqualifiedSearchRegistries: string[];
  registries: RegistryEntry[];
  /** Short-name aliases: `"fedora" = "registry.fedoraproject.org/fedora"`. */
  aliases: Record<string, string>;
  /** Files that were read, in order (for messages). */
  files: string[];
}

/** Policy for one `host/repo`, with `location` and mirror locations already rewritten. */
export interface RegistryPolicy {
  /** The matching entry's prefix, undefined when no entry matched. */
  prefix?: string;
  /** `host/repo` to contact (the input when no entry rewrites it). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: { location: string; insecure: boolean; pullFromMirror: PullFromMirror }[];
}

const pullFromMirrorSchema = builtOnFirstUse(() => z.enum(['all', 'digest-only', 'tag-only']));
const mirrorSchema = builtOnFirstUse(() => z.object({
  location: z.string().min(1),
  insecure: z.boolean().optional(),
  'pull-from-mirror': pullFromMirrorSchema.optional(),
}));
const registrySchema = builtOnFirstUse(() => z.object({
  prefix: z.string().optional(),
  location: z.string().optional(),
  insecure: z.boolean().optional(),
  blocked: z.boolean().optional(),
  mirror: z.array(mirrorSchema).optional(),
  'mirror-by-digest-only': z.boolean().optional(),
}));
const v1ListSchema = builtOnFirstUse(() => z.object({ registries: z.array(z.string()).optional() }).optional());
const fileSchema = builtOnFirstUse(() => z.object({
  'unqualified-search-registries': z.array(z.string()).optional(),
  registry: z.array(registrySchema).optional(),
  aliases: z.record(z.string(), z.string()).optional(),
  registries: z
    .object({ search: v1ListSchema, insecure: v1ListSchema, block: v1ListSchema })
    .optional(),
}));
type ConfFile = z.infer<typeof fileSchema>;

function malformed(file: string, why: string, cause?: unknown): SyscontainerError {
  return new SyscontainerError('ECONFIG', `registries configuration ${file} is malformed: ${why}`, cause === undefined ? {} : { cause });
}

/** Strips a scheme and trailing slashes: `https://host/path/` → `host/path`. */
function normaliseLocation(value: string): string {
  return value.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

function validPrefix(prefix: string): boolean {
  if (prefix.startsWith('*.')) return /^\*\.[^/*@:]+$/.test(prefix);
  return !prefix.includes('*') && prefix.length > 0;
}

function toEntries(file: string, doc: ConfFile): RegistryEntry[] {
  const entries: RegistryEntry[] = [];
  for (const [i, raw] of (doc.registry ?? []).entries()) {
    const location = raw.location !== undefined ? normaliseLocation(raw.location) : '';
    const prefix = raw.prefix !== undefined ? normaliseLocation(raw.prefix) : location;
    if (prefix.length === 0) throw malformed(file, `[[registry]] #${i + 1} has neither prefix nor location`);
    if (!validPrefix(prefix)) throw malformed(file, `[[registry]] #${i + 1} has an invalid prefix "${prefix}"`);
    if (prefix.startsWith('*.') && raw.location !== undefined) {
      throw malformed(file, `[[registry]] #${i + 1}: a wildcard prefix cannot have a location`);
    }
    const defaultPull: PullFromMirror = raw['mirror-by-digest-only'] ? 'digest-only' : 'all';
    entries.push({
      prefix,
      location: prefix.startsWith('*.') ? '' : location || prefix,
      insecure: raw.insecure ?? false,
      blocked: raw.blocked ?? false,
      mirrors: (raw.mirror ?? []).map((m) => ({
        location: normaliseLocation(m.location),
        insecure: m.insecure ?? false,
        pullFromMirror: m['pull-from-mirror'] ?? defaultPull,
      })),
    });
  }
  // v1 format: lists of hosts.
  const v1 = doc.registries;
  if (v1 !== undefined) {
    if (doc.registry !== undefined || doc['unqualified-search-registries'] !== undefined) {
      throw malformed(file, 'mixes the v1 [registries.*] tables with the v2 format');
    }
    const byHost = new Map<string, RegistryEntry>();
    const entryFor = (host: string): RegistryEntry => {
      const location = normaliseLocation(host);
      let entry = byHost.get(location);
      if (entry === undefined) {
        entry = { prefix: location, location, insecure: false, blocked: false, mirrors: [] };
        byHost.set(location, entry);
        entries.push(entry);
      }
      return entry;
    };
    for (const host of v1.insecure?.registries ?? []) entryFor(host).insecure = true;
    for (const host of v1.block?.registries ?? []) entryFor(host).blocked = true;
  }
  return entries;
}

async function readConfFile(file: string): Promise<ConfFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SyscontainerError('ECONFIG', `cannot read registries configuration ${file}: ${(error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = parseToml(text);
  } catch (error) {
    throw malformed(file, ((error as Error).message.split('\n')[0] ?? 'invalid TOML').trim(), error);
  }
  const result = fileSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw malformed(file, `${where}${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** Adds one file's settings on top of `conf` (drop-in semantics of containers-registries.conf.d(5)). */
function merge(conf: RegistriesConf, file: string, doc: ConfFile): void {
  conf.files.push(file);
  const search = doc['unqualified-search-registries'] ?? doc.registries?.search?.registries;
  if (search !== undefined) conf.unqualifiedSearchRegistries = search.map(normaliseLocation);
  for (const entry of toEntries(file, doc)) {
    const same = conf.registries.findIndex((e) => e.prefix === entry.prefix);
    if (same >= 0) conf.registries[same] = entry;
    else conf.registries.push(entry);
  }
  Object.assign(conf.aliases, doc.aliases ?? {});
}

/**
 * Reads registries.conf (default: /etc/containers/registries.conf)
 * and then `registries.conf.d/*.conf` next to it, in name order. A missing file means the
 * defaults (search docker.io); a malformed one throws ECONFIG naming the file.
 */
export async function loadRegistriesConf(path?: string): Promise<RegistriesConf> {
  const main = path ?? defaultRegistriesConfPath;
  const conf: RegistriesConf = { unqualifiedSearchRegistries: [...defaultSearchRegistries], registries: [], aliases: {}, files: [] };
  const mainDoc = await readConfFile(main);
  if (mainDoc !== undefined) merge(conf, main, mainDoc);
  const dropInDir = join(dirname(main), 'registries.conf.d');
  let names: string[] = [];
  try {
    names = (await readdir(dropInDir)).filter((n) => n.endsWith('.conf')).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw new SyscontainerError('ECONFIG', `cannot read ${dropInDir}: ${(error as Error).message}`, { cause: error });
    }
  }
  for (const name of names) {
    const file = join(dropInDir, name);
    const doc = await readConfFile(file);
    if (doc !== undefined) merge(conf, file, doc);
  }
  return conf;
}

/** Defaults only (no file): search docker.io, nothing insecure. */
export function defaultRegistriesConf(): RegistriesConf {
  return { unqualifiedSearchRegistries: [...defaultSearchRegistries], registries: [], aliases: {}, files: [] };
}

function hostOf(hostAndRepo: string): string {
  const slash = hostAndRepo.indexOf('/');
  return slash < 0 ? hostAndRepo : hostAndRepo.slice(0, slash);
}

/** How well `prefix` matches `name`: its length when it matches on a path boundary, else -1. */
function matchLength(prefix: string, name: string): number {
  if (prefix.startsWith('*.')) {
    const host = hostOf(name).replace(/:\d+$/, '');
    return host.endsWith(prefix.slice(1)) ? prefix.length : -1;
  }
  if (name === prefix || name.startsWith(`${prefix}/`)) return prefix.length;
  return -1;
}

/**
 * The policy for `hostAndRepo` ("host[:port]/repo" or just "host[:port]"): the entry with the
 * longest matching prefix wins; its location and mirrors are rewritten onto the name.
 */
export function registryFor(conf: Pick<RegistriesConf, 'registries'>, hostAndRepo: string): RegistryPolicy {
  let best: RegistryEntry | undefined;
  let bestLength = -1;
  for (const entry of conf.registries) {
    const length = matchLength(entry.prefix, hostAndRepo);
    // Exact prefixes beat wildcards of the same length; later files already replaced earlier ones.
    if (length > bestLength) {
      best = entry;
      bestLength = length;
    }
  }
  if (best === undefined) return { location: hostAndRepo, insecure: false, blocked: false, mirrors: [] };
  // A wildcard entry matches the whole host; an exact one its prefix. The rest of the name
  // is appended to the location (and to each mirror's).
  const wildcard = best.prefix.startsWith('*.');
  const matched = wildcard ? hostOf(hostAndRepo).length : best.prefix.length;
  const rewrite = (location: string): string => location + hostAndRepo.slice(matched);
  return {
    prefix: best.prefix,
    location: wildcard ? hostAndRepo : rewrite(best.location),
    insecure: best.insecure,
    blocked: best.blocked,
    mirrors: best.mirrors.map((m) => ({ location: rewrite(m.location), insecure: m.insecure, pullFromMirror: m.pullFromMirror })),
  };
}
