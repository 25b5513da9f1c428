// Many containers: 1, 10 and 100 installed containers of the small image (300 too with
// --many 1,10,100,300), installed --no-start (untimed, growing one root from count to count).
// At each count, alternating run by run: `containers list`, `status` of the first,
// `install` of one more (uninstalled again, untimed), `update --all` with nothing to do (its
// pulls find the image stored), and `podman ps -a` with as many containers created.
// The goals: list ≤ `--version` + 100 ms at 100 and linear; status and install flat;
// update --all ≤ 3 s at 100.
import type { BenchContext, Measurement } from './context.js';
import { alternate, measureCommand, type Contender, type Sample } from './runner.js';
import { figure, type Row } from './table.js';
import { freshDir, freshHostFileDirs, podmanCreate, podmanGlobal, podmanPull, removeTree, syscontainer, syscontainerInstall, syscontainerPull } from './tools.js';

export const manySection = 'many containers: each command at N installed containers';

export const manyContainers: Measurement = {
  name: 'many',
  floorLabels: { [manySection]: '--version' },
  async run(ctx) {
    const counts = ctx.manyCounts;
    const root = await freshDir(ctx.workDir, 'many');
    const podmanRoot = await freshDir(ctx.workDir, 'many-podman');
    const dirs = await freshHostFileDirs(ctx.workDir, 'many-units');
    const rows: Row[] = [];
    try {
      await measureCommand(syscontainerPull(ctx.cli, root, ctx.refs.small), ctx.workDir);
      await measureCommand(podmanPull(ctx.podmanDriver, podmanRoot, ctx.refs.small), ctx.workDir);
      const name = (i: number) => `scb-many-${i}`;
      let installed = 0;
      const runs = Math.max(5, ctx.runs);
      for (const count of counts) {
        ctx.log(`many: installing up to ${count} containers`);
        for (; installed < count; installed++) {
          await measureCommand(syscontainerInstall(ctx.cli, root, dirs, name(installed), ctx.refs.small), ctx.workDir);
          await measureCommand(podmanCreate(ctx.podmanDriver, podmanRoot, name(installed), ctx.refs.small), ctx.workDir);
        }
        const extra = `scb-many-extra`;
        const contenders: Contender[] = [
          { name: 'version', command: () => syscontainer(ctx.cli, root, dirs, ['--version']) },
          {
            name: 'list',
            command: () => syscontainer(ctx.cli, root, dirs, ['containers', 'list']),
            inspect: (_run, sample) => {
              const lines = sample.stdout.trim().split('\n').length - 1;
              if (lines !== count) throw new Error(`containers list at ${count}: ${lines} lines`);
            },
          },
          { name: 'status', command: () => syscontainer(ctx.cli, root, dirs, ['status', name(0)]) },
          {
            name: 'install',
            command: () => syscontainerInstall(ctx.cli, root, dirs, extra, ctx.refs.small),
            cleanup: async () => void (await measureCommand(syscontainer(ctx.cli, root, dirs, ['uninstall', extra]), ctx.workDir)),
          },
          { name: 'update-all', command: () => syscontainer(ctx.cli, root, dirs, ['update', '--all']) },
          { name: 'podman-ps', command: () => ({ argv: ['podman', ...podmanGlobal(ctx.podmanDriver, podmanRoot), 'ps', '-a'] }) },
        ];
        const samples = await alternate(contenders, runs, ctx.workDir, () => undefined);
        const wall = (key: string) => figure((samples[key] ?? []).map((s: Sample) => s.wall));
        const version = wall('version');
        rows.push(
          { section: manySection, measurement: `containers list at ${count}`, unit: 's', syscontainer: wall('list'), podman: wall('podman-ps'), floor: version, note: `podman ps -a; ${((wall('list').median - version.median) * 1000).toFixed(0)} ms over --version` },
          { section: manySection, measurement: `status NAME at ${count}`, unit: 's', syscontainer: wall('status'), floor: version },
          { section: manySection, measurement: `install one more at ${count}`, unit: 's', syscontainer: wall('install'), floor: version, note: '--no-start' },
          { section: manySection, measurement: `update --all, nothing to do, at ${count}`, unit: 's', syscontainer: wall('update-all'), floor: version, note: 'pulls find the image stored' },
        );
        ctx.log(`many: at ${count}: list ${wall('list').median.toFixed(2)} s, podman ps ${wall('podman-ps').median.toFixed(2)} s, update --all ${wall('update-all').median.toFixed(2)} s`);
      }
      return rows;
    } finally {
      await removeTree(root);
      await removeTree(podmanRoot);
    }
  },
};
