// The site's syscontainer settings: /etc/containers/syscontainer.conf (SYSCONTAINER_CONFIG
// elsewhere), TOML like the other files of /etc/containers. Only what an operator sets once
// for a host lives here; everything is optional and a missing file means the defaults:
//
//   [install]
//   # refuse anything beyond the default confinement, as `install --confined` does
//   confined = true
//
// The file is validated as a whole: an unknown table or key, or a value of the wrong type, is
// an error naming the file and the key (a typo must not silently drop a security setting).
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

export const defaultConfigFile = '/etc/containers/syscontainer.conf';

const configSchema = builtOnFirstUse(() => z
  .object({
    install: z.object({ confined: z.boolean().optional() }).strict().optional(),
  })
  .strict());

export interface SiteConfig {
  /** Refuse privileges beyond the default confinement at install and update. */
  confined: boolean;
}

/** Reads and validates `file`; the defaults when it does not exist. Throws ECONFIG naming the problem. */
export function readConfigFile(file: string): SiteConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { confined: false };
    throw new SyscontainerError('ECONFIG', `${file}: cannot be read (${(error as Error).message})`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    throw new SyscontainerError('ECONFIG', `${file}: not valid TOML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = [...issue.path, ...('keys' in issue && Array.isArray(issue.keys) ? [issue.keys[0]] : [])].join('.');
    throw new SyscontainerError('ECONFIG', `${file}: ${where === '' ? '' : `${where}: `}${issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message}`);
  }
  return { confined: parsed.data.install?.confined === true };
}
