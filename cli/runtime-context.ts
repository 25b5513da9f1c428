// Builds the runtime's context from global settings and the environment: one place that
// knows the default unit and tmpfiles directories and the runtime binary.
import { existsSync } from 'node:fs';
import { nsenterPidVariable, nsenterPrefix, runtimeStoreOf, Systemd, type RuntimeContext } from '../runtime/index.js';
import { ImageStore, type StoredImage } from '../store/index.js';
import type { GlobalSettings, OptionValues } from './command.js';
import type { Output } from './output.js';

/** Finds `runc` on PATH (or the usual places) so that units name it by absolute path. */
function defaultRuntimePath(env: NodeJS.ProcessEnv): string {
  const dirs = [...(env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(`${dir}/runc`)) return `${dir}/runc`;
  }
  return '/usr/bin/runc';
}

export const runtimeOptions = {
  'unit-dir': { type: 'string' },
  runtime: { type: 'string' },
} as const;

export interface CliRuntime {
  store: ImageStore;
  ctx: RuntimeContext<StoredImage>;
}

export function runtimeContext(settings: GlobalSettings, options: OptionValues, out: Output, env = process.env): CliRuntime {
  const store = new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs });
  const runtimePath = typeof options.runtime === 'string' ? options.runtime : (env.SYSCONTAINER_RUNTIME ?? defaultRuntimePath(env));
  // The test harness's systemd runs in namespaces of its own: talk to it (and its runc) through nsenter.
  const commandPrefix = nsenterPrefix(env[nsenterPidVariable]);
  const systemd = new Systemd({ prefix: commandPrefix });
  return {
    store,
    ctx: {
      root: settings.root,
      unitDir: typeof options['unit-dir'] === 'string' ? options['unit-dir'] : (env.SYSCONTAINER_UNIT_DIR ?? '/etc/systemd/system'),
      tmpfilesDir: env.SYSCONTAINER_TMPFILES_DIR ?? '/etc/tmpfiles.d',
      // Where images' /exports/hostfs files go; another root only for tests and image builds.
      hostRoot: env.SYSCONTAINER_HOST_ROOT ?? '/',
      runtimePath,
      store: runtimeStoreOf(store),
      systemd,
      commandPrefix,
      log: (line) => out.info(line),
      lockWaitMs: settings.lockWaitMs,
      // How long a started container must stay up to count as started (tests shorten it).
      ...(/^\d+$/.test(env.SYSCONTAINER_SETTLE_MS ?? '') ? { settleMs: Number(env.SYSCONTAINER_SETTLE_MS) } : {}),
    },
  };
}
