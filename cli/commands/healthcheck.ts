// `healthcheck run NAME`: the container's health check once, by hand (the timer runs the
// light entry, cli/healthcheck-main.ts, with the same result). Exits 0 healthy, 1 unhealthy,
// 125 when the check could not run.
import { runContainerHealthCheck } from '../../app/index.js';
import { onlyArgument } from '../arguments.js';
import type { Command } from '../command.js';
import { healthReport } from '../health-report.js';

export const healthcheck: Command = {
  name: ['healthcheck', 'run'],
  summary: "run a container's health check once, record it, act on repeated failure (exit 0 healthy, 1 unhealthy, 125 could not run)",
  usage: 'NAME',
  async run({ app, out, args }) {
    const name = onlyArgument(args, 'healthcheck run');
    try {
      const outcome = await runContainerHealthCheck(app.settings, { name }, { log: (line) => out.result(line) });
      for (const line of healthReport(name, outcome)) out.result(line);
      return outcome.exitCode;
    } catch (error) {
      out.error(error, app.settings.debug);
      return 125;
    }
  },
};
