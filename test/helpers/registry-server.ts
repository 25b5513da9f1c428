// Debian's docker-registry (the reference distribution registry) on 127.0.0.1 with a free
// port and a temporary storage directory; optional htpasswd or token authentication.
// stop() kills the process by pid and removes the directory.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTokenIssuer, type TokenIssuer } from './token-issuer.js';

export const registryBinary = '/usr/bin/docker-registry';

export interface RegistryServerOptions {
  /** Basic auth through an htpasswd file (bcrypt, made with `htpasswd -Bbn`). */
  htpasswd?: { username: string; password: string };
  /** Token auth backed by a loopback token issuer with these users. */
  token?: { users: Record<string, string>; anonymousPull?: boolean; expiresIn?: number };
}

export interface RegistryServer {
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  /** Set when started with `token`. */
  tokenIssuer?: TokenIssuer;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function probe(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1_000, () => req.destroy());
  });
}

export async function startRegistry(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-registry-'));
  let tokenIssuer: TokenIssuer | undefined;
  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    let auth = '';
    if (options.htpasswd) {
      const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', options.htpasswd.username, options.htpasswd.password]);
      await writeFile(join(dir, 'htpasswd'), stdout);
      auth = `auth:\n  htpasswd:\n    realm: syscontainer-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (options.token) {
      tokenIssuer = await startTokenIssuer({ dir, ...options.token });
      auth =
        `auth:\n  token:\n    realm: ${tokenIssuer.realm}\n    service: ${tokenIssuer.service}\n` +
        `    issuer: ${tokenIssuer.issuer}\n    rootcertbundle: ${tokenIssuer.certFile}\n`;
    }
    const config =
      'version: 0.1\n' +
      'log:\n  level: warn\n  accesslog:\n    disabled: true\n' +
      `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\n` +
      `http:\n  addr: ${host}\n  secret: ${randomBytes(16).toString('hex')}\n` +
      auth;
    const configFile = join(dir, 'config.yml');
    await writeFile(configFile, config);
    const logFile = join(dir, 'registry.log');
    const log = openSync(logFile, 'a');
    const child = spawn(registryBinary, ['serve', configFile], { stdio: ['ignore', log, log] });
    closeSync(log);
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    child.once('error', () => undefined);

    const stop = async (): Promise<void> => {
      if (!exited && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => child.pid !== undefined && !exited && process.kill(child.pid, 'SIGKILL'), 3_000);
        await exit;
        clearTimeout(timer);
      }
      await tokenIssuer?.stop();
      await rm(dir, { recursive: true, force: true });
    };

    const deadline = Date.now() + 15_000;
    while (!(await probe(`http://${host}/v2/`))) {
      if (exited || Date.now() > deadline) {
        const text = await readFile(logFile, 'utf8').catch(() => '');
        await stop();
        throw new Error(`docker-registry did not start on ${host}: ${text.split('\n').slice(-5).join(' | ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const server: RegistryServer = { host, url: `http://${host}`, stop };
    if (tokenIssuer) server.tokenIssuer = tokenIssuer;
    return server;
  } catch (error) {
    await tokenIssuer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
