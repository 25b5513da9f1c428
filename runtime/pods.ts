// A pod: containers sharing one network namespace (loopback only; the host's with
// hostNetwork, then there is nothing to make) and the pod's volumes (emptyDirs, under
// ROOT/.pods/POD/volumes). With systemd the namespace belongs to a oneshot unit,
// syscontainer-pod-POD.service, that the pod's containers Require= and come After=, so it is
// made before them at boot and they stop with it; without systemd it is made directly.
// Everything here is idempotent: apply calls it again on every run.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { RuntimeContext } from './context.js';
import { podDirectory, podNetnsName, podNetnsPath, podUnitName } from './container-spec.js';
import { IpNetns, ipPath } from './ip-netns.js';

/** The pod's unit: it owns the network namespace. Pure. */
export function podUnit(pod: string, ip: string): string {
  const netns = podNetnsName(pod);
  return [
    `# Installed by syscontainer for pod ${pod}: it owns the pod's network namespace`,
    `# (${podNetnsPath(pod)}, loopback only); the pod's containers Require= it and join it.`,
    '[Unit]',
    `Description=syscontainer pod ${pod} (network namespace)`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // A namespace left by a killed manager is replaced: containers joining it are not running.
    `ExecStartPre=-${ip} netns delete ${netns}`,
    `ExecStart=${ip} netns add ${netns}`,
    `ExecStart=${ip} -n ${netns} link set lo up`,
    `ExecStop=${ip} netns delete ${netns}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function ipOf(ctx: RuntimeContext): IpNetns {
  return new IpNetns({ prefix: ctx.commandPrefix ?? [] });
}

/**
 * Makes what the pod needs before its containers start: its volume directories and, unless
 * `hostNetwork`, its network namespace (the unit written, enabled and started with systemd).
 */
export async function ensurePod(ctx: RuntimeContext, pod: string, options: { hostNetwork: boolean; volumes: readonly string[] }): Promise<void> {
  const dir = podDirectory(ctx.root, pod);
  await mkdir(path.join(dir, 'volumes'), { recursive: true, mode: 0o700 });
  for (const volume of options.volumes) await mkdir(path.join(dir, 'volumes', volume), { recursive: true, mode: 0o755 });
  if (options.hostNetwork) return;
  if (await ctx.systemd.isRunning()) {
    const file = path.join(ctx.unitDir, podUnitName(pod));
    const text = podUnit(pod, ipPath());
    if ((await readFile(file, 'utf8').catch(() => undefined)) !== text) {
      await mkdir(ctx.unitDir, { recursive: true });
      await writeFileAtomic(file, text);
      await ctx.systemd.daemonReload();
    }
    await ctx.systemd.enable(podUnitName(pod));
    await ctx.systemd.start(podUnitName(pod));
  } else {
    await ipOf(ctx).ensure(podNetnsName(pod));
  }
}

/** Removes the pod's unit, namespace and directory (its emptyDirs). Call it when none of its containers is left. Idempotent. */
export async function removePod(ctx: RuntimeContext, pod: string): Promise<void> {
  const file = path.join(ctx.unitDir, podUnitName(pod));
  if (await ctx.systemd.isRunning()) {
    await ctx.systemd.stop(podUnitName(pod)).catch(() => undefined);
    await ctx.systemd.disable(podUnitName(pod)).catch(() => undefined);
    await rm(file, { force: true });
    await ctx.systemd.daemonReload();
    await ctx.systemd.resetFailed(podUnitName(pod)).catch(() => undefined);
  } else {
    await rm(file, { force: true });
  }
  await ipOf(ctx).remove(podNetnsName(pod));
  await rm(podDirectory(ctx.root, pod), { recursive: true, force: true });
}
