// The command lines of this CLI that units we write call back: the full CLI (the auto-update
// service, a health check's on-failure action) and the light health-check entry bundled beside
// it (what each container's health timer starts every interval). By absolute path, as the
// unit's root and settings may not be the default and the CLI may not be on PATH.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** Bundled, then unbundled (tsc's dist/cli), names of each entry. */
const fullNames = ['syscontainer.mjs', 'main.js'];
const lightNames = ['syscontainer-healthcheck.mjs', 'healthcheck-main.js'];

/** `script` is the running entry (process.argv[1]): the full CLI or the light one. */
export function selfCommands(script: string = process.argv[1] ?? 'syscontainer'): { cli: string[]; healthCli: string[] } {
  const self = existsSync(script) ? realpathSync(script) : path.resolve(script);
  const dir = path.dirname(self);
  const beside = (names: readonly string[]) => names.map((name) => path.join(dir, name)).find((file) => existsSync(file));
  const isLight = lightNames.includes(path.basename(self));
  const full = isLight ? (beside(fullNames) ?? path.join(dir, 'syscontainer.mjs')) : self;
  const light = isLight ? self : (beside(lightNames) ?? self);
  return { cli: [process.execPath, full], healthCli: [process.execPath, light] };
}
