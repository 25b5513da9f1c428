// TripleO's container-startup-config format, as paunch read it: one JSON or YAML map from
// container name to its config. The fields syscontainer supports are listed here; any other is
// reported by path as not supported (paunch's own names: README "Supported paunch fields").
import * as z from 'zod';
import { unsupportedPrefix } from './kube-schema.js';
import { builtOnFirstUse } from '../../../common/built-on-first-use.js';

const unsupported = (why: string) => `${unsupportedPrefix} (${why})`;
const stringOrList = builtOnFirstUse(() => z.union([z.string().min(1), z.array(z.string()).min(1)]));
const hostOnly = (what: string) => z.enum(['host', ''], { message: unsupported(`${what}: only "host" (or none, the container's own)`) });

export const paunchContainerSchema = builtOnFirstUse(() => z.strictObject({
  /** Required for action run (checked per container); an exec runs in another container's image. */
  image: z.string().min(1).optional(),
  command: stringOrList.optional(),
  environment: z.union([z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*=/, 'expected KEY=VALUE')), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))]).optional(),
  env_file: stringOrList.optional(),
  volumes: z.array(z.string().min(1)).optional(),
  net: z.enum(['host', 'none'], { message: unsupported('net: "host" or "none"; container:NAME and bridges are not offered') }).optional(),
  pid: hostOnly('pid').optional(),
  ipc: hostOnly('ipc').optional(),
  uts: hostOnly('uts').optional(),
  privileged: z.boolean().optional(),
  user: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  restart: z
    .string()
    .regex(/^(always|unless-stopped|no|on-failure(:\d+)?)$/, 'expected always, unless-stopped, on-failure[:N] or no')
    .optional(),
  healthcheck: z.strictObject({ test: stringOrList }).optional(),
  check_interval: z.number().int().positive().optional(),
  start_order: z.number().int().min(0).max(1000).optional(),
  depends_on: z.array(z.string().min(1)).optional(),
  cap_add: z.array(z.string().regex(/^[A-Za-z_]+$/, 'not a capability name')).optional(),
  cap_drop: z.array(z.string().regex(/^[A-Za-z_]+$/, 'not a capability name')).optional(),
  mem_limit: z.union([z.string(), z.number()]).optional(),
  cpu_shares: z.number().int().min(2).max(262144).optional(),
  detach: z.boolean().optional(),
  remove: z.boolean().optional(),
  action: z.enum(['run', 'exec']).optional(),
  exit_codes: z.array(z.number().int().min(0).max(255)).min(1).optional(),
  // Descriptive or default values paunch also accepted without effect here.
  interactive: z.literal(false, { message: unsupported('system containers run without a terminal') }).optional(),
  tty: z.literal(false, { message: unsupported('system containers run without a terminal') }).optional(),
}));
export type PaunchContainer = z.infer<typeof paunchContainerSchema>;

export const paunchConfigSchema = builtOnFirstUse(() => z.record(z.string(), paunchContainerSchema));
export type PaunchConfig = z.infer<typeof paunchConfigSchema>;

export const paunchUnsupportedReasons: Record<string, string> = {
  volumes_from: 'name the volumes themselves',
  extra_hosts: 'the host\'s /etc/hosts is used',
  ulimit: 'the unit\'s limits apply',
  security_opt: 'the default confinement applies',
  hostname: 'the container has the host\'s name (net host) or its own',
  log_tag: 'output goes to the journal',
  stop_signal: 'the image\'s StopSignal applies',
  stop_grace_period: 'the unit\'s TimeoutStopSec applies',
  mem_swappiness: 'not offered',
  memswap_limit: 'not offered',
  cpuset_cpus: 'not offered',
  healthcheck: 'only test',
};

/** Whether a document looks like a paunch config: a map whose values are all maps with an image (or exec actions). */
export function looksLikePaunch(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.values(value as Record<string, unknown>);
  const isConfig = (e: unknown) => e !== null && typeof e === 'object' && !Array.isArray(e) && ('image' in e || (e as { action?: unknown }).action === 'exec');
  return entries.length > 0 && entries.every(isConfig);
}
