// `--listen` values: unix:PATH or tcp:HOST:PORT ([v6]:PORT too). TCP to anything but loopback
// needs TLS, or is refused: a token sent in clear text over a network is a token given away.
import { isIP } from 'node:net';
import path from 'node:path';
import { SyscontainerError } from '../app/index.js';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export const defaultSocketPath = '/run/syscontainer/syscontainer.sock';

export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('unix:')) {
    const file = text.slice('unix:'.length);
    if (!path.isAbsolute(file) || file.length > 100 || /[\0\s]/.test(file)) {
      throw new SyscontainerError('EUSAGE', `--listen ${text}: expected unix:/ABSOLUTE/PATH (at most 100 characters, no spaces)`);
    }
    return { kind: 'unix', path: path.normalize(file) };
  }
  const tcp = /^tcp:(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (tcp !== null) {
    const host = (tcp[1] ?? tcp[2]) as string;
    const port = Number(tcp[3]);
    if (port > 65535) throw new SyscontainerError('EUSAGE', `--listen ${text}: port must be 0-65535 (0: any free port)`);
    if (tcp[1] !== undefined && isIP(host) !== 6) throw new SyscontainerError('EUSAGE', `--listen ${text}: ${host} is not an IPv6 address`);
    return { kind: 'tcp', host, port };
  }
  throw new SyscontainerError('EUSAGE', `--listen ${text}: expected unix:PATH or tcp:HOST:PORT`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function formatListenAddress(address: ListenAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
