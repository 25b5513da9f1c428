// A real systemd for tests: PID 1 of a private PID + mount namespace (see
// shared/notes/systemd-harness.md). Isolation, because a careless boot changes the machine:
//  - /run, /tmp, /var/tmp and /var/log/journal are private tmpfs; the given unit directory is
//    bind-mounted over /etc/systemd/system, so the host's enabled units are not seen and what
//    tests enable persists in that directory across a "reboot";
//  - every generator is disabled (symlinks to /dev/null in /run/systemd/system-generators):
//    the sysv and fstab generators would start the host's init scripts and mounts; one of ours
//    takes their place: it appends a line to reloadLog at boot and at every daemon-reload,
//    which is how a test counts reloads (countReloads);
//  - every unit the distribution's *.wants directories pull in is masked in /run/systemd/system
//    (sysctl, binfmt, sysusers, tmpfiles-setup … act on the shared kernel and filesystem),
//    except journald, so `journalctl` works inside;
//  - multi-user.target is replaced (in /run) by a bare target and booted, so units enabled
//    with WantedBy=multi-user.target start at boot and nothing else does.
// Shared paths for tests must be outside /tmp and /var/tmp (private inside): use testBaseDir().
// cgroup hierarchies are shared with the host: run one harness at a time.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

/** Base of test directories visible both outside and inside the harness. */
export const testRoot = '/var/lib/syscontainer-test';

/** A fresh, empty directory under testRoot. The caller removes it (t.teardown). */
export async function testBaseDir(label: string): Promise<string> {
  const dir = path.join(testRoot, label);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/**
 * Removes the empty cgroups a harness' systemd left for units named `prefix*.service` (and
 * runc's `container` child of each) in the hierarchies it shares with the host. rmdir only: a
 * cgroup that still holds a process stays. Call it after the harness stopped.
 */
export function removeHarnessUnitCgroups(prefix: string): void {
  for (const hierarchy of existsSync('/sys/fs/cgroup') ? execFileSync('ls', ['/sys/fs/cgroup'], { encoding: 'utf8' }).split('\n') : []) {
    if (hierarchy === '') continue;
    execFileSync('sh', ['-c', `rmdir /sys/fs/cgroup/${hierarchy}/system.slice/${prefix}*.service/container /sys/fs/cgroup/${hierarchy}/system.slice/${prefix}*.service 2>/dev/null || true`]);
  }
}

/** Every path under `dir` (relative, sorted; symlinks not followed), minus top-level `exclude`. */
export async function listTree(dir: string, exclude: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(dir, rel)).catch(() => [] as string[]);
    for (const entry of entries) {
      const relative = rel === '' ? entry : `${rel}/${entry}`;
      if (rel === '' && exclude.includes(entry)) continue;
      const stats = await lstat(path.join(dir, relative));
      out.push(stats.isDirectory() ? `${relative}/` : stats.isSymbolicLink() ? `${relative}@` : relative);
      if (stats.isDirectory()) await walk(relative);
    }
  }
  await walk('');
  return out.sort();
}

const keepUnits = /^systemd-journald/;
// Masked even if no *.wants directory names them: they change the shared machine.
const alwaysMasked = [
  'systemd-remount-fs.service', 'systemd-tmpfiles-setup.service', 'systemd-tmpfiles-setup-dev.service',
  'systemd-tmpfiles-clean.timer', 'systemd-sysctl.service', 'systemd-sysusers.service', 'systemd-binfmt.service',
  'proc-sys-fs-binfmt_misc.automount', 'systemd-modules-load.service', 'systemd-journal-flush.service',
  'systemd-random-seed.service', 'systemd-update-utmp.service', 'systemd-machine-id-commit.service',
  'systemd-firstboot.service', 'ldconfig.service', 'systemd-hwdb-update.service',
  'systemd-journal-catalog-update.service', 'systemd-update-done.service', 'systemd-udevd.service',
  'systemd-udev-trigger.service', 'systemd-logind.service', 'dbus.service', 'dbus.socket',
  'systemd-networkd-wait-online.service', 'NetworkManager-wait-online.service',
];
const unitSearchDirs = ['/lib/systemd/system', '/usr/lib/systemd/system', '/usr/local/lib/systemd/system'];
const generatorDirs = ['/lib/systemd/system-generators', '/usr/lib/systemd/system-generators', '/usr/local/lib/systemd/system-generators', '/etc/systemd/system-generators'];

async function unitsToMask(): Promise<string[]> {
  const names = new Set(alwaysMasked);
  for (const dir of unitSearchDirs) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (!entry.endsWith('.wants') && !entry.endsWith('.requires')) continue;
      for (const unit of await readdir(path.join(dir, entry)).catch(() => [] as string[])) if (!keepUnits.test(unit)) names.add(unit);
    }
  }
  return [...names].sort();
}

async function generatorNames(): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of generatorDirs) for (const g of await readdir(dir).catch(() => [] as string[])) names.add(g);
  return [...names].sort();
}

/** Inside the harness (its private /run): one line per generator run, the boot's first. */
const reloadLog = '/run/syscontainer-test-reloads';
const reloadCounter = 'syscontainer-test-reload-counter';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function bootScript(unitDir: string, cgroupV2: boolean): Promise<string> {
  const masks = await unitsToMask();
  const generators = await generatorNames();
  return [
    '#!/bin/sh',
    'set -eu',
    'mount --make-rprivate /',
    'for d in /run /tmp /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$d"; done',
    'chmod 755 /run',
    'if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi',
    `mount --bind ${quote(unitDir)} /etc/systemd/system`,
    // cgroup v2 on a v1/hybrid host: the unified hierarchy alone over /sys/fs/cgroup (privately),
    // so systemd and runc both run in v2 mode (without the controllers v1 holds).
    ...(cgroupV2
      ? ['if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then umount -l /sys/fs/cgroup; mount -t cgroup2 cgroup2 /sys/fs/cgroup; fi']
      : []),
    'mkdir -p /run/systemd/system /run/systemd/system-generators',
    ...generators.map((g) => `ln -sf /dev/null /run/systemd/system-generators/${quote(g)}`),
    ...masks.map((u) => `ln -sf /dev/null /run/systemd/system/${quote(u)}`),
    `printf '#!/bin/sh\\necho reload >> ${reloadLog}\\n' > /run/systemd/system-generators/${reloadCounter}`,
    `chmod 755 /run/systemd/system-generators/${reloadCounter}`,
    "printf '[Unit]\\nDescription=syscontainer test harness\\nAllowIsolate=yes\\n' > /run/systemd/system/multi-user.target",
    'exec env container=syscontainer-test /lib/systemd/systemd --system --unit=multi-user.target',
    '',
  ].join('\n');
}

export interface HarnessExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class SystemdHarness {
  /** systemd's pid as seen from outside. */
  pid = 0;
  private unsharePid = 0;

  private constructor(
    readonly unitDir: string,
    readonly workDir: string,
    readonly cgroupV2: boolean,
  ) {}

  /**
   * Boots systemd with `unitDir` as /etc/systemd/system; `workDir` holds the boot script and
   * log. `cgroupV2`: run it on the unified hierarchy even when the host uses v1 or hybrid.
   */
  static async boot(options: { unitDir: string; workDir: string; cgroupV2?: boolean }): Promise<SystemdHarness> {
    const harness = new SystemdHarness(options.unitDir, options.workDir, options.cgroupV2 === true);
    await harness.start();
    return harness;
  }

  /** `nsenter -t PID -m -p`: run commands inside the harness. */
  get prefix(): string[] {
    return ['nsenter', '-t', String(this.pid), '-m', '-p'];
  }

  async exec(command: readonly string[]): Promise<HarnessExecResult> {
    const result = await execa(this.prefix[0] as string, [...this.prefix.slice(1), ...command], { reject: false, stdin: 'ignore' });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  }

  private async start(): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error('the systemd harness needs root');
    if (!existsSync('/lib/systemd/systemd')) throw new Error('the systemd harness needs /lib/systemd/systemd');
    await mkdir(this.unitDir, { recursive: true });
    await mkdir(this.workDir, { recursive: true });
    const script = path.join(this.workDir, 'boot.sh');
    await writeFile(script, await bootScript(this.unitDir, this.cgroupV2), { mode: 0o755 });
    const log = path.join(this.workDir, 'boot.log');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(log, 'a');
    // If this test process dies without stop() (a timeout, a crash), the harness dies too:
    // setpriv makes unshare get SIGKILL with its parent, --kill-child passes it on to systemd.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'unshare', '--kill-child=SIGKILL', '--pid', '--mount', '--fork', '--mount-proc', script], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new Error('could not start unshare');
    this.unsharePid = child.pid;
    const deadline = Date.now() + 30_000;
    while (this.pid === 0) {
      if (Date.now() > deadline) throw new Error(`systemd did not start in the harness; see ${log}`);
      const children = await readFile(`/proc/${this.unsharePid}/task/${this.unsharePid}/children`, 'utf8').catch(() => '');
      const candidate = Number(children.trim().split(/\s+/)[0]);
      if (candidate > 0) {
        const comm = await readFile(`/proc/${candidate}/comm`, 'utf8').catch(() => '');
        if (comm.trim() === 'systemd') this.pid = candidate;
      }
      if (this.pid === 0) await sleep(100);
    }
    let state = '';
    while (Date.now() < deadline) {
      state = (await this.exec(['systemctl', 'is-system-running'])).stdout.trim();
      if (state === 'running' || state === 'degraded') return;
      await sleep(200);
    }
    throw new Error(`systemd in the harness is "${state}", not running; see ${log}`);
  }

  /** `systemctl exit 0` inside; the whole PID namespace dies with it. Kills by pid if it lingers. Idempotent. */
  async stop(): Promise<void> {
    if (this.pid === 0) return;
    await this.exec(['systemctl', 'exit', '0']);
    for (let i = 0; i < 100 && existsSync(`/proc/${this.unsharePid}`); i++) await sleep(100);
    for (const pid of [this.pid, this.unsharePid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && existsSync(`/proc/${this.pid}`); i++) await sleep(100);
    this.pid = 0;
    this.unsharePid = 0;
  }

  /** How many daemon-reloads (and re-execs) systemd ran since it booted. */
  async countReloads(): Promise<number> {
    const out = await this.exec(['cat', reloadLog]);
    if (out.exitCode !== 0) throw new Error(`no ${reloadLog} in the harness: ${out.stderr.trim()}`);
    return out.stdout.split('\n').filter((line) => line === 'reload').length - 1;
  }

  /** Stop, then boot again with the same unit directory: what was enabled starts by itself. */
  async reboot(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
