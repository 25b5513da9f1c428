// The one wrapper of `ip netns` (iproute2): named network namespaces under /run/netns, the way
// `ip netns add` makes them (a bind mount of a namespace file), which runc joins by path. Run
// through the same command prefix as systemd and runc (nsenter into a test harness: its /run is
// private), so the namespace is where the containers' runc looks.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { SyscontainerError } from '../common/errors.js';
import { withPrefix } from './command-prefix.js';

/** Absolute path of `ip`: a unit's ExecStart= and our own calls use the same binary. */
export function ipPath(): string {
  for (const candidate of ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']) if (existsSync(candidate)) return candidate;
  throw new SyscontainerError('ERUNTIME', 'ip (iproute2) is not installed: pods need it for their network namespace', { hint: 'apt-get install iproute2' });
}

export class IpNetns {
  private readonly prefix: readonly string[];

  constructor(options: { prefix?: readonly string[] } = {}) {
    this.prefix = options.prefix ?? [];
  }

  private async ip(args: readonly string[], what: string): Promise<void> {
    const [cmd, argv] = withPrefix(this.prefix, ipPath(), args);
    const result = await execa(cmd, argv, { reject: false, stdin: 'ignore' });
    if (result.failed) throw new SyscontainerError('ERUNTIME', `${what}: ${String(result.stderr ?? '').trim().split('\n')[0] || result.shortMessage}`);
  }

  /** Whether the named namespace exists (its file under /run/netns, seen through the prefix). */
  async exists(name: string): Promise<boolean> {
    const [cmd, argv] = withPrefix(this.prefix, 'test', ['-e', `/run/netns/${name}`]);
    return (await execa(cmd, argv, { reject: false, stdin: 'ignore' })).exitCode === 0;
  }

  /** Makes the namespace with loopback up. Idempotent: an existing one is kept (its loopback brought up). */
  async ensure(name: string): Promise<void> {
    if (!(await this.exists(name))) await this.ip(['netns', 'add', name], `ip netns add ${name}`);
    await this.ip(['-n', name, 'link', 'set', 'lo', 'up'], `ip -n ${name} link set lo up`);
  }

  /** Removes the namespace. Idempotent. */
  async remove(name: string): Promise<void> {
    if (await this.exists(name)) await this.ip(['netns', 'delete', name], `ip netns delete ${name}`);
  }
}
