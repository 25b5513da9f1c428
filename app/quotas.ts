// Per-project quotas of the REST service (`syscontainer quota set P --containers N`), kept in
// one small JSON file next to the tokens. A project without an entry has no limit.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { SyscontainerError } from '../common/errors.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { validateProjectName } from './project-name.js';
import { builtOnFirstUse } from '../common/built-on-first-use.js';

export interface ProjectQuota {
  /** Most containers the project may have at once; undefined: no limit. */
  containers?: number;
}

const fileSchema = builtOnFirstUse(() => z.object({
  version: z.literal(1),
  projects: z.record(z.string(), z.object({ containers: z.number().int().min(0).optional() })),
}));

export class QuotaStore {
  constructor(readonly file: string) {}

  async all(): Promise<Record<string, ProjectQuota>> {
    const text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return {};
    try {
      return fileSchema.parse(JSON.parse(text)).projects;
    } catch (error) {
      throw new SyscontainerError('ECONFIG', `quota file ${this.file} is not valid: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
    }
  }

  async get(project: string): Promise<ProjectQuota> {
    return (await this.all())[project] ?? {};
  }

  /** Sets (or with `containers: undefined` clears) the container quota of `project`. */
  async set(project: string, quota: ProjectQuota): Promise<void> {
    validateProjectName(project);
    if (quota.containers !== undefined && (!Number.isInteger(quota.containers) || quota.containers < 0 || quota.containers > 100_000)) {
      throw new SyscontainerError('EUSAGE', `--containers ${quota.containers}: expected a whole number from 0 to 100000`);
    }
    const projects = await this.all();
    if (quota.containers === undefined) delete projects[project];
    else projects[project] = { containers: quota.containers };
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, projects }, null, 2)}\n`, 0o600);
  }
}
