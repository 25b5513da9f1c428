import { login as loginOperation, logout as logoutOperation, SyscontainerError } from '../../app/index.js';
import { onlyArgument, stringOption } from '../arguments.js';
import type { Command } from '../command.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const login: Command = {
  name: ['login'],
  summary: 'check credentials against a registry and store them (auth file, mode 0600)',
  usage: '-u USER (-p PASSWORD | --password-stdin) REGISTRY',
  options: {
    username: { type: 'string', short: 'u', placeholder: 'USER', description: 'the user name at the registry' },
    password: { type: 'string', short: 'p', placeholder: 'PASSWORD', description: 'the password (visible to other users in the process list: prefer --password-stdin)' },
    'password-stdin': { type: 'boolean', description: 'read the password from standard input' },
  },
  async run({ app, out, args, options }) {
    const registry = onlyArgument(args, 'login', 'REGISTRY');
    const username = stringOption(options, 'username');
    if (!username) throw new SyscontainerError('EUSAGE', 'login needs --username');
    const password = options['password-stdin'] ? await readStdin() : stringOption(options, 'password');
    if (!password) throw new SyscontainerError('EUSAGE', 'login needs --password or --password-stdin');
    const result = await loginOperation(app, { registry, username, password });
    out.result(`Login succeeded: ${result.registry} (credentials in ${result.authFile})`);
  },
};

export const logout: Command = {
  name: ['logout'],
  summary: 'remove stored credentials for a registry',
  usage: 'REGISTRY',
  async run({ app, out, args }) {
    const registry = onlyArgument(args, 'logout', 'REGISTRY');
    await logoutOperation(app, { registry });
    out.result(`Removed login credentials for ${registry}`);
  },
};
