// The one place that decides who runs containers: systemd when a manager runs and answers
// (ctx.systemd.isRunning()), else runc directly. Decided once per context.
import { runcOf, type RuntimeContext } from '../context.js';
import { IpNetns } from '../ip-netns.js';
import { RuncSupervisor } from './runc-supervisor.js';
import type { Supervisor } from './supervisor.js';
import { SystemdSupervisor } from './systemd-supervisor.js';

const defaultSettleMs = 2000;

/** Asks the context's systemd whether it runs, and returns the supervisor for the answer. */
export async function chooseSupervisor(ctx: RuntimeContext): Promise<Supervisor> {
  const settleMs = ctx.settleMs ?? defaultSettleMs;
  return (await ctx.systemd.isRunning()) ? new SystemdSupervisor(ctx.systemd, runcOf(ctx), settleMs) : new RuncSupervisor(runcOf(ctx), settleMs, new IpNetns({ prefix: ctx.commandPrefix ?? [] }), ctx.root);
}

const chosen = new WeakMap<RuntimeContext, Promise<Supervisor>>();

/** ctx.supervisor when the context builder chose it, else chosen on first use and kept with the context. */
export function supervisorOf(ctx: RuntimeContext): Promise<Supervisor> {
  if (ctx.supervisor !== undefined) return Promise.resolve(ctx.supervisor);
  let supervisor = chosen.get(ctx);
  if (supervisor === undefined) {
    supervisor = chooseSupervisor(ctx);
    chosen.set(ctx, supervisor);
  }
  return supervisor;
}
