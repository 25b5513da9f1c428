// `auto-update [--dry-run] [--install-timer]`: updates the containers installed with
// --auto-update whose image changed in the registry (app/auto-update.ts), one row each.
import { autoUpdate as autoUpdateAll, installAutoUpdateTimer, SyscontainerError } from '../../app/index.js';
import type { Command } from '../command.js';
import { pullProgress } from './pull-progress.js';
import { runtimeOptions } from './runtime-options.js';

export const autoUpdate: Command = {
  name: ['auto-update'],
  summary: 'update the containers installed with --auto-update whose image changed in the registry (health-gated, rolled back when unhealthy)',
  usage: '[--dry-run] [--install-timer]',
  options: {
    'dry-run': { type: 'boolean', description: 'only say which containers would be updated' },
    'install-timer': { type: 'boolean', description: 'install and start syscontainer-auto-update.timer (daily, randomized delay) instead' },
    ...runtimeOptions,
  },
  async run({ app, out, args, options }) {
    if (args.length > 0) throw new SyscontainerError('EUSAGE', 'auto-update takes no NAME: it acts on the containers installed with --auto-update');
    if (options['install-timer']) {
      const installed = await installAutoUpdateTimer(app);
      out.result(`Installed ${installed.files.join(' and ')}${installed.enabled ? '; the timer is enabled and started' : ' (systemd is not running here: enable the timer where it does)'}`);
      return 0;
    }
    const result = await autoUpdateAll(app, { dryRun: options['dry-run'] === true }, { log: (line) => out.info(line), onPull: pullProgress(out) });
    if (result.entries.length === 0) {
      out.result('no container is installed with --auto-update');
      return 0;
    }
    out.table(['NAME', 'IMAGE', 'RESULT', 'DETAIL'], result.entries.map((e) => [e.name, e.image, e.outcome, e.detail]));
    return result.failed > 0 ? 1 : 0;
  },
};
