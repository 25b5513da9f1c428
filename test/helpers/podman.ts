// Debian's podman 4.3 as a peer in tests, in a storage of its own under a test directory. Two
// workarounds these machines need (see shared/notes/declarative-and-health.md): `kube play`
// runs in a private mount namespace where every cgroup v1 hierarchy this process is in is
// mounted (some are listed but not mounted here) and /dev/shm is private; and a private
// containers.conf sets runc, cgroupfs and rlimits root may set without CAP_SYS_RESOURCE.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

export interface PodmanResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const containersConf = `[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
`;

const sessionSetup = `set -e
mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
for controllers in $(cut -d: -f2 /proc/self/cgroup); do
  [ -n "$controllers" ] || continue
  case "$controllers" in
    name=*) dir=\${controllers#name=}; opts="none,$controllers" ;;
    *) dir=$controllers; opts=$controllers ;;
  esac
  mkdir -p "/sys/fs/cgroup/$dir"
  mount -t cgroup -o "$opts" cgroup "/sys/fs/cgroup/$dir"
  case "$controllers" in *,*) for c in $(echo "$controllers" | tr , ' '); do ln -sf "$dir" "/sys/fs/cgroup/$c"; done ;; esac
done
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
`;

export class Podman {
  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<Podman> {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'containers.conf'), containersConf);
    // Only fully qualified names (the test registry's): the host's search list is not read.
    await writeFile(path.join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
    return new Podman(dir);
  }

  private get global(): string[] {
    return ['--root', path.join(this.dir, 'storage'), '--runroot', path.join(this.dir, 'run'), '--tmpdir', path.join(this.dir, 'tmp')];
  }

  private get env(): Record<string, string> {
    return { CONTAINERS_CONF: path.join(this.dir, 'containers.conf'), CONTAINERS_REGISTRIES_CONF: path.join(this.dir, 'registries.conf') };
  }

  /** One podman command, as a user runs it. */
  async run(args: readonly string[]): Promise<PodmanResult> {
    const result = await execa('podman', [...this.global, ...args], { reject: false, stdin: 'ignore', env: this.env, timeout: 180_000 });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /**
   * Podman commands in one private mount namespace (the workarounds above): kube play, then
   * what checks it, then the teardown, so mounts and network namespaces it makes are seen.
   */
  async session(commands: readonly (readonly string[])[]): Promise<PodmanResult> {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const lines = commands.map((c) => ['podman', ...this.global, ...c].map(quote).join(' '));
    const script = `${sessionSetup}${lines.join('\n')}\n`;
    const result = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { reject: false, stdin: 'ignore', env: this.env, timeout: 240_000 });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }
}
