// What a user asks of a container's service beyond its --set values: health check, restart
// policy, ordering between containers, sd_notify and auto-update. Given to install (CLI flags,
// apply's Kubernetes or paunch fields, the REST API), kept in the deployment's info record and
// reused by update, where options given again win field by field.
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { validateContainerName } from '../container-name.js';
import { healthOptionsSchema, mergeHealthOptions } from '../health/health-check.js';
import { restartPolicySchema } from './restart-policy.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

const containerName = builtOnFirstUse(() => z.string().superRefine((name, context) => {
  try {
    validateContainerName(name);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
  }
}));
const names = builtOnFirstUse(() => z.array(containerName).max(64));

export const serviceOptionsSchema = builtOnFirstUse(() => z
  .object({
    health: healthOptionsSchema.optional(),
    restart: restartPolicySchema.optional(),
    /** With on-failure: at most this many restarts (docker's MaximumRetryCount, podman's on-failure:N), until the next start. */
    restartRetries: z.number().int().min(1).max(1000).optional(),
    /** Containers this one needs: started with it, and it stops when they stop (Requires= + After=). */
    requires: names.optional(),
    /** Containers started with this one if installed (Wants= + After=). */
    wants: names.optional(),
    /** Containers this one starts after when both start (After= only). */
    after: names.optional(),
    /** The service says READY itself (Type=notify): "started" means it said so. */
    notify: z.boolean().optional(),
    /** `syscontainer auto-update` may update this container when its image changes in the registry. */
    autoUpdate: z.boolean().optional(),
  })
  .strict());
export type ServiceOptions = z.infer<typeof serviceOptionsSchema>;

/** Containers `options` depends on, by kind. */
export interface Dependencies {
  requires: string[];
  wants: string[];
  after: string[];
}

export function dependenciesOf(options: ServiceOptions | undefined): Dependencies {
  return { requires: options?.requires ?? [], wants: options?.wants ?? [], after: options?.after ?? [] };
}

/**
 * Validates options from any front end before anything is written: a one-line EINVAL naming
 * the field at fault; a container may not depend on itself. Pure.
 */
export function validateServiceOptions(options: unknown, name: string): ServiceOptions {
  const parsed = serviceOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    throw new SyscontainerError('EINVAL', `container ${name}: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid options'}`);
  }
  if (parsed.data.restartRetries !== undefined && parsed.data.restart !== 'on-failure') {
    throw new SyscontainerError('EINVAL', `container ${name}: a maximum retry count needs the restart policy on-failure, not ${parsed.data.restart ?? 'the default'}`);
  }
  const deps = dependenciesOf(parsed.data);
  for (const [kind, list] of Object.entries(deps)) {
    if (list.includes(name)) throw new SyscontainerError('EINVAL', `container ${name} cannot ${kind === 'after' ? 'start after' : kind.replace(/s$/, '')} itself`);
  }
  return parsed.data;
}

/** `given` over `kept` (update): each field given replaces the kept one; health field by field. Pure. */
export function mergeServiceOptions(kept: ServiceOptions | undefined, given: ServiceOptions | undefined): ServiceOptions {
  const merged: ServiceOptions = { ...kept };
  // A policy given again brings its own retry count, or none.
  if (given?.restart !== undefined) delete merged.restartRetries;
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    if (key === 'health') {
      const health = mergeHealthOptions(kept?.health, given?.health);
      if (health !== undefined) merged.health = health;
    } else {
      (merged as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}
