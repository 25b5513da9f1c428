import { login as registryLogin, logout as registryLogout, loadRegistriesConf } from '../../store/index.js';
import { SyscontainerError } from '../../common/errors.js';
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
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
  },
  async run({ settings, out, args, options }) {
    const [registry, ...extra] = args;
    if (registry === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'login takes exactly one REGISTRY');
    const username = typeof options.username === 'string' ? options.username : undefined;
    if (!username) throw new SyscontainerError('EUSAGE', 'login needs --username');
    const password = options['password-stdin'] ? await readStdin() : typeof options.password === 'string' ? options.password : undefined;
    if (!password) throw new SyscontainerError('EUSAGE', 'login needs --password or --password-stdin');
    const conf = await loadRegistriesConf(settings.registriesConf);
    const result = await registryLogin({
      registry,
      username,
      password,
      conf,
      ...(settings.authFile !== undefined ? { authFile: settings.authFile } : {}),
    });
    out.result(`Login succeeded: ${result.registry} (credentials in ${result.authFile})`);
  },
};

export const logout: Command = {
  name: ['logout'],
  summary: 'remove stored credentials for a registry',
  usage: 'REGISTRY',
  async run({ settings, out, args }) {
    const [registry, ...extra] = args;
    if (registry === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'logout takes exactly one REGISTRY');
    const removed = await registryLogout(registry, settings.authFile);
    if (!removed) throw new SyscontainerError('ENOTFOUND', `not logged in to ${registry}`);
    out.result(`Removed login credentials for ${registry}`);
  },
};
