// Many containers: 1, 10 and 100 installed containers of the small image (300 too with
// --many 1,10,100,300), installed --no-start (untimed, growing one root from count to count).
// At each count, alternating run by run: `containers list`, `status` of the first,
// `install` of one more (uninstalled again, untimed), `update --all` with nothing to do (its
// pulls find the image stored), and `podman ps -a` with as many containers created. Then, with
// both REST services started on those storages (only then, so that their own watching costs
// the commands above nothing), GET /containers/json?all=1 of each, by curl on the unix socket.
// The goals: list ≤ `--version` + 100 ms at 100 and linear; status and install flat;
// update --all ≤ 3 s at 100.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, Measurement } from './context.js';
import { stopService, waitForSocket } from './measure-api.js';
import { alternate, measureCommand, type CommandSpec, type Contender, type Sample } from './runner.js';
import { figure, type Row } from './table.js';
import { freshDir, freshHostFileDirs, podmanCreate, podmanGlobal, podmanPull, removeTree, syscontainer, syscontainerInstall, syscontainerPull, type HostFileDirs } from './tools.js';

export const manySection = 'many containers: each command at N installed containers';

/** A service started from `spec` (its stdout and stderr to `log`), ready once `socket` answers. */
async function startService(spec: CommandSpec, socket: string, log: string): Promise<{ child: ReturnType<typeof spawn> }> {
  const fd = openSync(log, 'a');
  const child = spawn(spec.argv[0]!, spec.argv.slice(1), { env: { ...process.env, ...spec.env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const service = { child };
  try {
    await waitForSocket(socket, child, log);
  } catch (error) {
    await stopService(service);
    throw error;
  }
  return service;
}

/** GET /containers/json?all=1 on a unix socket with curl: the listing as a docker client asks for it. */
function restList(socket: string): CommandSpec {
  return { argv: ['curl', '-sSf', '--unix-socket', socket, 'http://localhost/v1.41/containers/json?all=1'] };
}

/** Both REST services over the storages of the listing, running `body`; stopped after it. */
async function withRestServices<T>(ctx: BenchContext, root: string, dirs: HostFileDirs, podmanRoot: string, body: (sockets: { syscontainer: string; podman: string }) => Promise<T>): Promise<T> {
  const dir = await freshDir(ctx.workDir, 'many-rest');
  const sockets = { syscontainer: join(dir, 'syscontainer.sock'), podman: join(dir, 'podman.sock') };
  const ours = await startService(syscontainer(ctx.cli, root, dirs, ['serve', '--listen', `unix:${sockets.syscontainer}`]), sockets.syscontainer, join(dir, 'syscontainer.log'));
  try {
    const podman = await startService({ argv: ['podman', ...podmanGlobal(ctx.podmanDriver, podmanRoot), 'system', 'service', '--time=0', `unix://${sockets.podman}`] }, sockets.podman, join(dir, 'podman.log'));
    try {
      return await body(sockets);
    } finally {
      await stopService(podman);
    }
  } finally {
    await stopService(ours);
    await removeTree(dir);
  }
}

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
        const listed = (who: string) => (_run: number, sample: Sample) => {
          const entries = (JSON.parse(sample.stdout) as unknown[]).length;
          if (entries !== count) throw new Error(`${who} GET /containers/json at ${count}: ${entries} entries`);
        };
        Object.assign(
          samples,
          await withRestServices(ctx, root, dirs, podmanRoot, (sockets) =>
            alternate(
              [
                { name: 'rest-list', command: () => restList(sockets.syscontainer), inspect: listed('syscontainer') },
                { name: 'podman-rest-list', command: () => restList(sockets.podman), inspect: listed('podman') },
              ],
              runs,
              ctx.workDir,
              () => undefined,
            ),
          ),
        );
        const wall = (key: string) => figure((samples[key] ?? []).map((s: Sample) => s.wall));
        const version = wall('version');
        rows.push(
          { section: manySection, measurement: `containers list at ${count}`, unit: 's', syscontainer: wall('list'), podman: wall('podman-ps'), floor: version, note: `podman ps -a; ${((wall('list').median - version.median) * 1000).toFixed(0)} ms over --version` },
          { section: manySection, measurement: `status NAME at ${count}`, unit: 's', syscontainer: wall('status'), floor: version },
          { section: manySection, measurement: `install one more at ${count}`, unit: 's', syscontainer: wall('install'), floor: version, note: '--no-start' },
          { section: manySection, measurement: `update --all, nothing to do, at ${count}`, unit: 's', syscontainer: wall('update-all'), floor: version, note: 'pulls find the image stored' },
          { section: manySection, measurement: `GET /containers/json at ${count}`, unit: 's', syscontainer: wall('rest-list'), podman: wall('podman-rest-list'), note: 'REST services, all=1, by curl (its start-up included)' },
        );
        ctx.log(`many: at ${count}: list ${wall('list').median.toFixed(2)} s, podman ps ${wall('podman-ps').median.toFixed(2)} s, update --all ${wall('update-all').median.toFixed(2)} s, GET /containers/json ${wall('rest-list').median.toFixed(3)} s (podman ${wall('podman-rest-list').median.toFixed(3)} s)`);
      }
      return rows;
    } finally {
      await removeTree(root);
      await removeTree(podmanRoot);
    }
  },
};
