// `syscontainer serve`: the REST service (Docker Engine API with tokens and projects) until
// SIGTERM or SIGINT. The default listener is the unix socket /run/syscontainer/syscontainer.sock
// (0660); TCP listeners require tokens, and a non-loopback one TLS.
import { fileURLToPath } from 'node:url';
import { installServiceUnits, parseAllowedBindSource, SyscontainerError } from '../../app/index.js';
import type { Command } from '../command.js';
import { version } from '../version.js';
import { runtimeOptions } from './runtime-options.js';

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

export const serve: Command = {
  name: ['serve'],
  summary: 'run the REST service (Docker Engine API 1.41, token auth per project) on a unix socket and/or TCP',
  usage: '[--listen unix:PATH | --listen tcp:HOST:PORT]... [--tokens FILE] [--tls-cert FILE --tls-key FILE] [--allow-bind DIR]... [--install-units [--unit-dir DIR]]',
  options: {
    listen: { type: 'string', multiple: true, placeholder: 'ADDRESS', description: 'unix:PATH or tcp:HOST:PORT to listen on (default unix:/run/syscontainer/syscontainer.sock)' },
    tokens: { type: 'string', placeholder: 'FILE', description: 'the tokens file (default ROOT/.service/tokens.json)' },
    'tls-cert': { type: 'string', placeholder: 'FILE', description: 'TLS certificate (PEM) for TCP listeners; required off loopback' },
    'tls-key': { type: 'string', placeholder: 'FILE', description: 'the TLS private key (PEM) that goes with --tls-cert' },
    'allow-bind': { type: 'string', multiple: true, placeholder: 'DIR', description: 'a host directory any project may bind-mount (and what is below it); other bind mounts need an admin token' },
    'install-units': { type: 'boolean', description: 'write syscontainer.socket and syscontainer.service (socket activation) and enable the socket, then exit' },
    'unit-dir': runtimeOptions['unit-dir']!,
  },
  async run({ app, out, args, options }) {
    if (args.length > 0) throw new SyscontainerError('EUSAGE', `serve takes no arguments (got ${args[0]})`);
    // The REST service is loaded by `serve` only, not at every other command's start.
    const { defaultSocketPath, parseListenAddress, startService } = await import('../../api/index.js');
    const cert = typeof options['tls-cert'] === 'string' ? options['tls-cert'] : undefined;
    const key = typeof options['tls-key'] === 'string' ? options['tls-key'] : undefined;
    if ((cert === undefined) !== (key === undefined)) throw new SyscontainerError('EUSAGE', '--tls-cert and --tls-key go together');
    const given = strings(options.listen).map(parseListenAddress);
    const activated = process.env.LISTEN_PID !== undefined && Number(process.env.LISTEN_PID) === process.pid;
    const listen = given.length > 0 || activated ? given : [parseListenAddress(`unix:${defaultSocketPath}`)];
    const allowedBindSources = strings(options['allow-bind']).map(parseAllowedBindSource);
    if (options['install-units'] === true) {
      const { settings } = app;
      const globalArgs = [`--root=${settings.root}`, ...(settings.registriesConf ? [`--registries-conf=${settings.registriesConf}`] : []), ...(settings.authFile ? [`--auth-file=${settings.authFile}`] : [])];
      const serveArgs = allowedBindSources.map((dir) => `--allow-bind=${dir}`);
      const installed = await installServiceUnits(app, { listen, execStart: [process.execPath, fileURLToPath(import.meta.url)], globalArgs, serveArgs });
      out.info(`wrote ${installed.socketUnit} and ${installed.serviceUnit}`);
      out.info(installed.started ? 'enabled and started syscontainer.socket: the service starts on the first request' : 'systemd is not running here: enable syscontainer.socket when it is');
      return 0;
    }
    const service = await startService({
      app,
      version: version(),
      listen,
      allowedBindSources,
      ...(typeof options.tokens === 'string' ? { tokensFile: options.tokens } : {}),
      ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
      log: (line) => out.info(line),
    });
    for (const listener of service.listeners) out.info(`listening on ${listener.address}${listener.kind === 'tcp' ? ' (tokens required)' : ''}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await service.stop();
    return 0;
  },
};
