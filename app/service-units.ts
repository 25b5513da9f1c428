// `syscontainer serve --install-units`: the REST service under systemd, started on its first
// request (socket activation). syscontainer.socket holds the listening sockets (the unix socket
// 0660 by default, or the --listen addresses); syscontainer.service runs `syscontainer serve`,
// which takes them from systemd (LISTEN_FDS). Written atomically; the socket enabled and started
// when systemd runs.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { SyscontainerError } from '../common/errors.js';
import { supervisorOf } from '../runtime/index.js';
import type { AppContext } from './context.js';

export interface ServiceUnitOptions {
  /** unix:PATH or tcp:HOST:PORT, as `serve --listen` takes them (already validated). */
  listen: { kind: 'unix'; path: string }[] | { kind: 'unix' | 'tcp'; path?: string; host?: string; port?: number }[];
  /** The command that runs the CLI: node and the script, absolute. */
  execStart: readonly string[];
  /** Global options to pass on (--root, --registries-conf, --auth-file). */
  globalArgs: readonly string[];
  /** Options of `serve` itself to pass on (--allow-bind). */
  serveArgs?: readonly string[];
}

const safeWord = /^[A-Za-z0-9_./:=@+,-]+$/;

function quoteWord(word: string): string {
  if (!safeWord.test(word)) throw new SyscontainerError('EINVAL', `${JSON.stringify(word)}: cannot go into a unit's command line (spaces, quotes, % or $)`);
  return word;
}

export async function installServiceUnits(app: AppContext, options: ServiceUnitOptions): Promise<{ socketUnit: string; serviceUnit: string; started: boolean }> {
  const listens = options.listen.map((l) => (l.kind === 'unix' ? quoteWord(l.path as string) : quoteWord(`${l.host}:${l.port}`)));
  const unixMode = options.listen.some((l) => l.kind === 'unix');
  const socket = [
    '# Installed by `syscontainer serve --install-units`: the REST service\'s sockets.',
    '[Unit]',
    'Description=syscontainer REST service socket',
    '',
    '[Socket]',
    ...listens.map((l) => `ListenStream=${l}`),
    ...(unixMode ? ['SocketMode=0660', 'DirectoryMode=0750'] : []),
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
  const command = [...options.execStart, ...options.globalArgs, 'serve', ...(options.serveArgs ?? [])].map(quoteWord).join(' ');
  const service = [
    '# Installed by `syscontainer serve --install-units`: the REST service, started on its first request.',
    '[Unit]',
    'Description=syscontainer REST service (Docker Engine API, tokens per project)',
    'Requires=syscontainer.socket',
    'After=syscontainer.socket',
    '',
    '[Service]',
    `ExecStart=${command}`,
    // Stopping the service must not stop the containers it made: they are units of their own.
    'KillMode=mixed',
    '',
    '[Install]',
    'Also=syscontainer.socket',
    '',
  ].join('\n');
  const unitDir = app.runtime.unitDir;
  await mkdir(unitDir, { recursive: true });
  const socketUnit = path.join(unitDir, 'syscontainer.socket');
  const serviceUnit = path.join(unitDir, 'syscontainer.service');
  await writeFileAtomic(serviceUnit, service);
  await writeFileAtomic(socketUnit, socket);
  // Enabled and started where systemd runs (the supervisor knows); written only where not.
  const started = await (await supervisorOf(app.runtime)).startHostUnit('syscontainer.socket');
  return { socketUnit, serviceUnit, started };
}
