// containers-registries.d(5): where the signatures of registry images are. Every `*.yaml` in
// the directory is merged; a scope may be configured in one file only (as containers/image
// insists). For an image, the sections of its most specific scopes are consulted in turn
// for a `lookaside` (reading) or `lookaside-staging` (writing) URL, then `default-docker`,
// then the built-in default directory; `use-sigstore-attachments` likewise. Keys we do not
// know are ignored, as containers/image does: a misspelt key can only hide signatures, and
// a policy that wants them then refuses the image. YAML is parsed by `yaml`, loaded on
// first use (only policies that ask for signatures need this file).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import type { PolicyImage } from './policy-scope.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

const sectionSchema = builtOnFirstUse(() => z.looseObject({
  lookaside: z.string().optional(),
  'lookaside-staging': z.string().optional(),
  /** Old names of lookaside and lookaside-staging, still read by containers/image. */
  sigstore: z.string().optional(),
  'sigstore-staging': z.string().optional(),
  'use-sigstore-attachments': z.boolean().optional(),
}));
type Section = z.infer<typeof sectionSchema>;

const fileSchema = builtOnFirstUse(() => z.looseObject({
  'default-docker': sectionSchema.nullish(),
  docker: z.record(z.string(), sectionSchema.nullish()).nullish(),
}));

export interface RegistriesD {
  /** The directory read (for messages). */
  dir: string;
  defaultDocker: Section | undefined;
  docker: Map<string, Section>;
  /** The built-in default lookaside when nothing is configured (a file: URL). */
  builtinLookaside: string;
}

/** Where signatures of a registry image are read from and written to. */
export interface SignatureStorage {
  /** Lookaside base URL for this repository (REPO path appended), for reading. */
  lookaside: URL;
  /** Same for writing (`lookaside-staging`, else `lookaside`). */
  staging: URL;
  useSigstoreAttachments: boolean;
}

/** Reads every *.yaml of `dir` (a missing directory is an empty configuration). */
export async function loadRegistriesD(dir: string, builtinLookaside: string): Promise<RegistriesD> {
  const config: RegistriesD = { dir, defaultDocker: undefined, docker: new Map(), builtinLookaside };
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.yaml')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return config;
    throw new SyscontainerError('ECONFIG', `registries.d ${dir}: cannot read (${(error as Error).message})`, { cause: error });
  }
  if (names.length === 0) return config;
  const { parse } = await import('yaml');
  let defaultFrom = '';
  const scopeFrom = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    let doc: unknown;
    try {
      doc = parse(await readFile(file, 'utf8')) ?? {};
    } catch (error) {
      throw new SyscontainerError('ECONFIG', `registries.d ${file}: not valid YAML (${(error as Error).message.split('\n')[0]})`, { cause: error });
    }
    const parsed = fileSchema.safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new SyscontainerError('ECONFIG', `registries.d ${file}: ${issue.path.join('.') || 'document'}: ${issue.message}`);
    }
    const section = parsed.data['default-docker'];
    if (section) {
      if (config.defaultDocker !== undefined) throw new SyscontainerError('ECONFIG', `registries.d: "default-docker" is defined in both ${defaultFrom} and ${file}`);
      config.defaultDocker = section;
      defaultFrom = file;
    }
    for (const [scope, scoped] of Object.entries(parsed.data.docker ?? {})) {
      if (scopeFrom.has(scope)) throw new SyscontainerError('ECONFIG', `registries.d: docker scope "${scope}" is defined in both ${scopeFrom.get(scope)} and ${file}`);
      scopeFrom.set(scope, file);
      config.docker.set(scope, scoped ?? {});
    }
  }
  return config;
}

function sectionsFor(config: RegistriesD, image: PolicyImage): Section[] {
  const sections: Section[] = [];
  for (const scope of [image.identity, ...image.namespaces]) {
    const section = config.docker.get(scope);
    if (section !== undefined) sections.push(section);
  }
  if (config.defaultDocker !== undefined) sections.push(config.defaultDocker);
  return sections;
}

function lookasideUrl(text: string, config: RegistriesD): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SyscontainerError('ECONFIG', `registries.d ${config.dir}: lookaside "${text.slice(0, 200)}" is not a URL`);
  }
  if (!['file:', 'http:', 'https:'].includes(url.protocol)) {
    throw new SyscontainerError('ECONFIG', `registries.d ${config.dir}: lookaside ${url.protocol} URLs are not supported (file:, http: or https:)`);
  }
  return url;
}

/** The signature storage of a registry image (`image.transport` is docker). */
export function signatureStorageFor(config: RegistriesD, image: PolicyImage): SignatureStorage {
  const sections = sectionsFor(config, image);
  const pick = (write: boolean): string => {
    for (const section of sections) {
      const found = (write ? (section['lookaside-staging'] ?? section['sigstore-staging']) : undefined) ?? section.lookaside ?? section.sigstore;
      if (found) return found;
    }
    return config.builtinLookaside;
  };
  const attachments = sections.find((section) => section['use-sigstore-attachments'] !== undefined)?.['use-sigstore-attachments'] ?? false;
  // The repository path (no registry host, no tag) is appended, as containers/image does.
  const repository = image.dockerReference!.repository;
  const withRepository = (url: URL): URL => {
    const out = new URL(url.href);
    out.pathname = `${url.pathname}/${repository}`;
    return out;
  };
  return { lookaside: withRepository(lookasideUrl(pick(false), config)), staging: withRepository(lookasideUrl(pick(true), config)), useSigstoreAttachments: attachments };
}

/** The URL of signature `index` (1-based) of `manifestDigest` under a repository's lookaside base. */
export function lookasideSignatureUrl(base: URL, manifestDigest: string, index: number): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname}@${manifestDigest.replace(':', '=')}/signature-${index}`;
  return url;
}

/** file: URL of a local directory. */
export function directoryUrl(path: string): string {
  return pathToFileURL(path).href;
}
