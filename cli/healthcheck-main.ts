#!/usr/bin/env node
// The light entry of `syscontainer [--root DIR] healthcheck run NAME`: what each container's
// health timer starts every interval. It is bundled on its own (dist/syscontainer-healthcheck.mjs,
// beside dist/syscontainer.mjs, which it calls for the on-failure action) with only what one
// check needs: the settings and app/health.ts's operation, no registry, store or template
// code, so a check costs little more than the runc exec it runs. The full CLI has the same
// command for people.
import { parseArgs } from 'node:util';
import { probeOnce, readContainerSettings, runContainerHealthCheck } from '../app/index.js';
import { healthReport } from './health-report.js';
import { Output } from './output.js';

const usage = 'usage: syscontainer-healthcheck [--root DIR] [--debug] healthcheck run NAME';

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const out = new Output();
  let debug = false;
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { root: { type: 'string' }, debug: { type: 'boolean' } }, allowPositionals: true, strict: true });
    const [verb, sub, name, ...extra] = positionals;
    // `probe TCP|HTTP TARGET TIMEOUT_MS`: what healthcheck run starts in a container's network namespace.
    if (verb === 'probe' && sub !== undefined && name !== undefined && extra.length === 1) {
      const result = await probeOnce(sub, name, Number(extra[0]));
      out.result(result.output);
      return result.ok ? 0 : 1;
    }
    if (verb !== 'healthcheck' || sub !== 'run' || name === undefined || extra.length > 0) throw new Error(usage);
    const settings = readContainerSettings(env, { root: values.root, debug: values.debug === true });
    debug = settings.debug;
    const outcome = await runContainerHealthCheck(settings, { name }, { log: (line) => out.result(line) });
    for (const line of healthReport(name, outcome)) out.result(line);
    return outcome.exitCode;
  } catch (error) {
    out.error(error, debug);
    return 125;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
