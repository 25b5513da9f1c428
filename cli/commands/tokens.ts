// `syscontainer token create|list|revoke` and `syscontainer quota set|list`: the REST service's
// tokens (shown once, stored as sha256 in a 0600 file) and per-project quotas.
import { parseDuration, QuotaStore, serviceFiles, SyscontainerError, TokenStore } from '../../app/index.js';
import type { Command, CommandContext } from '../command.js';
import { jsonOption } from '../output.js';

const tokensOption = { tokens: { type: 'string', placeholder: 'FILE', description: 'the tokens file (default ROOT/.service/tokens.json)' } } as const;

function tokenStore(context: CommandContext): TokenStore {
  return new TokenStore(serviceFiles(context.app.settings.root, typeof context.options.tokens === 'string' ? context.options.tokens : undefined).tokens);
}

const tokenCreate: Command = {
  name: ['token', 'create'],
  summary: 'make a token for the REST service, granting one project (or all, with --admin); printed once',
  usage: '--project PROJECT [--admin] [--expires 30d] [--tokens FILE]',
  options: {
    project: { type: 'string', placeholder: 'PROJECT', description: 'the project the token grants' },
    admin: { type: 'boolean', description: 'grant every project' },
    expires: { type: 'string', placeholder: 'DURATION', description: 'expire after this long (30d, 12h, 90m)' },
    ...tokensOption,
  },
  async run(context) {
    const { options, out } = context;
    if (context.args.length > 0) throw new SyscontainerError('EUSAGE', 'token create takes no arguments');
    if (typeof options.project !== 'string') throw new SyscontainerError('EUSAGE', 'token create needs --project PROJECT');
    const expiresInMs = typeof options.expires === 'string' ? parseDuration(options.expires) : undefined;
    const { token, record } = await tokenStore(context).create({ project: options.project, admin: options.admin === true, ...(expiresInMs !== undefined ? { expiresInMs } : {}) });
    out.info(`token ${record.id} for project ${record.project}${record.admin ? ' (admin)' : ''}${record.expires ? `, expires ${record.expires}` : ''}: shown only now`);
    out.result(token);
  },
};

const tokenList: Command = {
  name: ['token', 'list'],
  summary: 'list the REST service tokens (ids, projects, expiry; never the tokens)',
  usage: '[--json] [--tokens FILE]',
  options: { ...jsonOption, ...tokensOption },
  async run(context) {
    const records = await tokenStore(context).list();
    const now = Date.now();
    context.out.jsonOr(
      context.options,
      records.map(({ sha256: _hash, ...shown }) => shown),
      () =>
        context.out.table(
          ['ID', 'PROJECT', 'ADMIN', 'CREATED', 'EXPIRES'],
          records.map((r) => [r.id, r.project, r.admin ? 'yes' : 'no', r.created, r.expires === undefined ? 'never' : `${r.expires}${Date.parse(r.expires) <= now ? ' (expired)' : ''}`]),
        ),
    );
  },
};

const tokenRevoke: Command = {
  name: ['token', 'revoke'],
  summary: 'revoke a REST service token by its id: refused from the next request on',
  usage: '[--tokens FILE] ID',
  options: tokensOption,
  async run(context) {
    const [id, ...extra] = context.args;
    if (id === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'token revoke takes exactly one ID');
    const record = await tokenStore(context).revoke(id);
    context.out.info(`revoked token ${record.id} (project ${record.project})`);
  },
};

const quotaSet: Command = {
  name: ['quota', 'set'],
  summary: 'set the most containers a project may have through the REST service (--containers none: no limit)',
  usage: 'PROJECT --containers N',
  options: { containers: { type: 'string', placeholder: 'N', description: 'the most containers the project may have; none: no limit' } },
  async run({ app, out, args, options }) {
    const [project, ...extra] = args;
    if (project === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'quota set takes exactly one PROJECT');
    const value = options.containers;
    if (typeof value !== 'string' || !/^(\d{1,6}|none)$/.test(value)) throw new SyscontainerError('EUSAGE', 'quota set needs --containers N (a whole number, or none)');
    await new QuotaStore(serviceFiles(app.settings.root).quotas).set(project, { containers: value === 'none' ? undefined : Number(value) });
    out.info(value === 'none' ? `project ${project}: no container quota` : `project ${project}: at most ${value} containers`);
  },
};

const quotaList: Command = {
  name: ['quota', 'list'],
  summary: 'list the projects\' quotas',
  usage: '[--json]',
  options: jsonOption,
  async run({ app, out, options }) {
    const all = await new QuotaStore(serviceFiles(app.settings.root).quotas).all();
    out.jsonOr(options, all, () => out.table(['PROJECT', 'CONTAINERS'], Object.entries(all).map(([p, q]) => [p, q.containers === undefined ? 'no limit' : String(q.containers)])));
  },
};

export const tokenCommands: Command[] = [tokenCreate, tokenList, tokenRevoke, quotaSet, quotaList];
