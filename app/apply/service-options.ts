// A declared container's health checks, restart policy and order, as the service options of
// the runtime (runtime/service/service-options.ts): what install and update keep and render.
import type { DeclaredCheck, DeclaredContainer } from './declared-container.js';

export interface DeclaredServiceOptions {
  health?: { test: [string, ...string[]]; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number };
  restart?: 'no' | 'on-failure' | 'always';
  requires?: string[];
  wants?: string[];
  after?: string[];
}

function healthOf(check: DeclaredCheck): DeclaredServiceOptions['health'] {
  const p = check.probe;
  const test: [string, ...string[]] =
    p.type === 'exec'
      ? ['CMD', ...p.command]
      : p.type === 'shell'
        ? ['CMD-SHELL', p.script]
        : p.type === 'tcp'
          ? ['TCP', `${p.host ?? '127.0.0.1'}:${p.port}`]
          : ['HTTP', `${p.https ? 'https' : 'http'}://${p.host ?? '127.0.0.1'}:${p.port}${p.path}`];
  return { test, intervalMs: check.intervalSeconds * 1000, timeoutMs: check.timeoutSeconds * 1000, retries: check.retries, startPeriodMs: check.startPeriodSeconds * 1000 };
}

/** Pure. The liveness check wins over startup and readiness (one check per container in the runtime). */
export function serviceOptionsOf(c: DeclaredContainer): DeclaredServiceOptions {
  const check = c.liveness ?? c.startup ?? c.readiness;
  return {
    ...(check !== undefined ? { health: healthOf(check) } : {}),
    ...(c.restart !== undefined ? { restart: c.restart } : {}),
    ...(c.requires.length > 0 ? { requires: c.requires } : {}),
    ...(c.wants.length > 0 ? { wants: c.wants } : {}),
    ...(c.after.length > 0 ? { after: c.after } : {}),
  };
}
