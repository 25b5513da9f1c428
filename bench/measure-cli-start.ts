// Start-up of the CLI: what every short command pays before any work, and what the health-check
// timer pays per container per interval. Alternating run by run: `node -e 0` (the floor: Node
// itself), `syscontainer --version`, `status NAME` and `containers list` on a root holding one
// installed (not started) container of the small image, `healthcheck run NAME` of it (its check,
// `--health-cmd true`, is not run: the container is not running, so this is the start-up, the
// record and one runc state; the light entry, as the health timer starts it), and
// `podman --version`. Wall and CPU (user+sys) medians; the note gives each as a multiple of
// `node -e 0`'s.
import type { BenchContext, Measurement } from './context.js';
import { alternate, measureCommand, type CommandSpec, type Contender, type Sample } from './runner.js';
import { figure, type Row } from './table.js';
import { join } from 'node:path';
import { freshDir, freshHostFileDirs, removeTree, syscontainer, syscontainerPull } from './tools.js';

export const cliStartSection = 'start-up: the CLI before any work (1.5× node -e 0 is the goal)';

function contender(name: string, spec: CommandSpec): Contender {
  return { name, command: () => spec };
}

export const cliStart: Measurement = {
  name: 'cli-start',
  floorLabels: { [cliStartSection]: 'node -e 0' },
  async run(ctx) {
    const root = await freshDir(ctx.workDir, 'cli-start');
    try {
      const dirs = await freshHostFileDirs(ctx.workDir, 'cli-start-units');
      const name = `scb-start-${process.pid}`;
      await measureCommand(syscontainerPull(ctx.cli, root, ctx.refs.small), ctx.workDir);
      await measureCommand(syscontainer(ctx.cli, root, dirs, ['install', '--system', '--name', name, '--no-start', '--health-cmd', 'true', ctx.refs.small]), ctx.workDir);
      const healthcheckRun = syscontainer(ctx.cli, root, dirs, ['healthcheck', 'run', name]);
      const lightEntry = { ...healthcheckRun, argv: [join(ctx.cli, '..', 'syscontainer-healthcheck.mjs'), ...healthcheckRun.argv.slice(1)], expectedExits: [125] };
      const runs = Math.max(15, ctx.runs * 3);
      ctx.log(`start-up: ${runs} runs each`);
      const samples = await alternate(
        [
          contender('node', { argv: ['node', '-e', '0'] }),
          contender('version', syscontainer(ctx.cli, root, dirs, ['--version'])),
          contender('status', syscontainer(ctx.cli, root, dirs, ['status', name])),
          contender('list', syscontainer(ctx.cli, root, dirs, ['containers', 'list'])),
          contender('healthcheck', lightEntry),
          contender('podman', { argv: ['podman', '--version'] }),
        ],
        runs,
        ctx.workDir,
        () => undefined,
      );
      const of = (key: string) => samples[key] ?? [];
      const wall = (s: Sample) => s.wall;
      const cpu = (s: Sample) => s.user + s.sys;
      const times = (key: string, value: (s: Sample) => number) => figure(of(key).map(value));
      const rows: Row[] = [];
      for (const [label, value] of [['wall', wall], ['CPU user+sys', cpu]] as const) {
        const floor = times('node', value);
        const row = (measurement: string, key: string, podman?: string): Row => {
          const own = times(key, value);
          return {
            section: cliStartSection,
            measurement: `${measurement}, ${label}`,
            unit: 's',
            syscontainer: own,
            ...(podman !== undefined ? { podman: times(podman, value) } : {}),
            floor,
            note: `${(own.median / floor.median).toFixed(2)}× node -e 0${podman !== undefined ? '; podman column: podman --version' : ''}`,
          };
        };
        rows.push(row('--version', 'version', 'podman'), row('status NAME', 'status'), row('containers list (1 container)', 'list'), row('healthcheck run NAME (light entry; not running)', 'healthcheck'));
      }
      return rows;
    } finally {
      await removeTree(root);
    }
  },
};
