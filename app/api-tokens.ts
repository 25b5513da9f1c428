// Tokens of the REST service (`syscontainer token create|list|revoke`). A token is shown once,
// when made; the file keeps only its sha256 (0600, written atomically), so a copy of the file
// grants nothing. Each token grants one project; an admin token sees and acts on every
// project's containers. Verification hashes the presented token and compares it with every
// stored hash in constant time, so neither timing nor an early exit tells how close a guess was.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { validateProjectName } from './project-name.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

export interface TokenRecord {
  /** Short public id (for list and revoke): not derived from the secret. */
  id: string;
  project: string;
  admin: boolean;
  created: string;
  /** ISO time after which the token is refused; undefined: never. */
  expires?: string;
  /** hex sha256 of the token. */
  sha256: string;
}

export interface TokenGrant {
  id: string;
  project: string;
  admin: boolean;
}

const recordSchema = builtOnFirstUse(() => z.object({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  project: z.string(),
  admin: z.boolean(),
  created: z.string(),
  expires: z.string().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
}));
const fileSchema = builtOnFirstUse(() => z.object({ version: z.literal(1), tokens: z.array(recordSchema) }));

const tokenPrefix = 'sct_';
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** "30d", "12h", "90m", "45s" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (match === null) throw new SyscontainerError('EUSAGE', `--expires ${JSON.stringify(text)}: expected a number and one of s, m, h, d (30d)`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new SyscontainerError('EUSAGE', `--expires ${text}: must be longer than 0`);
  return ms;
}

export class TokenStore {
  private cache: { mtimeMs: number; size: number; records: TokenRecord[] } | undefined;

  constructor(readonly file: string) {}

  private async read(): Promise<TokenRecord[]> {
    const info = await stat(this.file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info === undefined) return [];
    // The service checks every request: re-read only when the file changed (a revoke by the CLI).
    if (this.cache !== undefined && this.cache.mtimeMs === info.mtimeMs && this.cache.size === info.size) return this.cache.records;
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(await readFile(this.file, 'utf8')));
    } catch (error) {
      throw new SyscontainerError('ECONFIG', `token file ${this.file} is not valid: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
    }
    const records = parsed.tokens.map((r) => ({ ...r }));
    this.cache = { mtimeMs: info.mtimeMs, size: info.size, records };
    return records;
  }

  private async write(records: TokenRecord[]): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, tokens: records }, null, 2)}\n`, 0o600);
    this.cache = undefined;
  }

  /** Makes a token for `project`; returns the secret (shown once) and its record. */
  async create(options: { project: string; admin?: boolean; expiresInMs?: number; now?: Date }): Promise<{ token: string; record: TokenRecord }> {
    validateProjectName(options.project);
    const now = options.now ?? new Date();
    const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = {
      id: randomBytes(6).toString('hex'),
      project: options.project,
      admin: options.admin === true,
      created: now.toISOString(),
      ...(options.expiresInMs !== undefined ? { expires: new Date(now.getTime() + options.expiresInMs).toISOString() } : {}),
      sha256: sha256(token).toString('hex'),
    };
    await this.write([...(await this.read()), record]);
    return { token, record };
  }

  async list(): Promise<TokenRecord[]> {
    return this.read();
  }

  /** Removes the token with this id (or unique id prefix); ENOTFOUND when none. */
  async revoke(id: string): Promise<TokenRecord> {
    const records = await this.read();
    const matches = records.filter((r) => r.id.startsWith(id.toLowerCase()));
    if (id.length < 4 || matches.length === 0) throw new SyscontainerError('ENOTFOUND', `token ${id} not found`);
    if (matches.length > 1) throw new SyscontainerError('EINVAL', `token id ${id} is ambiguous: give more characters`);
    const revoked = matches[0] as TokenRecord;
    await this.write(records.filter((r) => r !== revoked));
    return revoked;
  }

  /** The grant of a valid, unexpired token; undefined for anything else. Constant time per stored token. */
  async verify(token: string, now = new Date()): Promise<TokenGrant | undefined> {
    const presented = sha256(token);
    let found: TokenRecord | undefined;
    for (const record of await this.read()) {
      // Every record is compared, whatever matched before.
      if (timingSafeEqual(presented, Buffer.from(record.sha256, 'hex')) && found === undefined) found = record;
    }
    if (found === undefined) return undefined;
    if (found.expires !== undefined && Date.parse(found.expires) <= now.getTime()) return undefined;
    return { id: found.id, project: found.project, admin: found.admin };
  }
}
