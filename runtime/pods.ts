// A pod: containers sharing one network namespace (loopback only; the host's with
// hostNetwork, then there is nothing to make) and the pod's volumes (emptyDirs, under
// ROOT/.pods/POD/volumes). With systemd the namespace belongs to a oneshot unit,
// syscontainer-pod-POD.service, that the pod's containers Require= and come After=, so it is
// made before them at boot and they stop with it; without systemd it is made directly (the
// supervisor decides). Everything here is idempotent: apply calls it again on every run.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeContext } from './context.js';
import { podDirectory, podNetnsName, podNetnsPath, podUnitName } from './container-spec.js';
import { ipPath } from './ip-netns.js';
import { supervisorOf } from './supervisor/choose.js';

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

/**
 * Makes what the pod needs before its containers start: its volume directories and, unless
 * `hostNetwork`, its network namespace.
 */
export async function ensurePod(ctx: RuntimeContext, pod: string, options: { hostNetwork: boolean; volumes: readonly string[] }): Promise<void> {
  const dir = podDirectory(ctx.root, pod);
  await mkdir(path.join(dir, 'volumes'), { recursive: true, mode: 0o700 });
  for (const volume of options.volumes) await mkdir(path.join(dir, 'volumes', volume), { recursive: true, mode: 0o755 });
  if (options.hostNetwork) return;
  await (await supervisorOf(ctx)).ensurePodNetwork(pod, { file: path.join(ctx.unitDir, podUnitName(pod)), text: podUnit(pod, ipPath()) });
}

/** Removes the pod's unit, namespace and directory (its emptyDirs). Call it when none of its containers is left. Idempotent. */
export async function removePod(ctx: RuntimeContext, pod: string): Promise<void> {
  await (await supervisorOf(ctx)).removePodNetwork(pod, path.join(ctx.unitDir, podUnitName(pod)));
  await rm(podDirectory(ctx.root, pod), { recursive: true, force: true });
}
