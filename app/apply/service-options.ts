// A declared container's probes, restart policy and order as the runtime's service options
// (runtime/service/service-options.ts): what install and update keep and render into the unit
// (Restart=, Requires=/Wants=/After=) and the health check's timer. Apply gives them whole on
// every install and update, so a probe removed from the files goes from the container too.
import type { ServiceOptions } from '../../runtime/index.js';
import type { DeclaredCheck, DeclaredContainer } from './declared-container.js';

function healthOf(check: DeclaredCheck, onFailure: 'none' | undefined): NonNullable<ServiceOptions['health']> {
  const p = check.probe;
  // tcpSocket and httpGet are probed by syscontainer itself, in the container's network
  // namespace (the pod's), where 127.0.0.1 is the pod: Kubernetes' default host, the pod IP.
  const host = (h: string | undefined) => {
    const name = h ?? '127.0.0.1';
    return name.includes(':') ? `[${name}]` : name;
  };
  const test: NonNullable<ServiceOptions['health']>['test'] =
    p.type === 'exec'
      ? ['CMD', ...(p.command as [string, ...string[]])]
      : p.type === 'shell'
        ? ['CMD-SHELL', p.script]
        : p.type === 'tcp'
          ? ['TCP', `${host(p.host)}:${p.port}`]
          : ['HTTP', `${p.https ? 'https' : 'http'}://${host(p.host)}:${p.port}${p.path.startsWith('/') ? p.path : `/${p.path}`}`];
  return {
    test,
    intervalMs: check.intervalSeconds * 1000,
    timeoutMs: check.timeoutSeconds * 1000,
    retries: check.retries,
    startPeriodMs: check.startPeriodSeconds * 1000,
    ...(onFailure !== undefined ? { onFailure } : {}),
  };
}

/**
 * Pure. One check per container in the runtime: liveness wins, then startup (both restart the
 * container when it fails, as the kubelet does), then readiness, which only reports (a
 * container that is not ready is not restarted; an update waiting on it is rolled back).
 */
export function serviceOptionsOf(c: DeclaredContainer): ServiceOptions {
  const check = c.liveness ?? c.startup;
  const health = check !== undefined ? healthOf(check, undefined) : c.readiness !== undefined ? healthOf(c.readiness, 'none') : undefined;
  return {
    ...(health !== undefined ? { health } : {}),
    ...(c.restart !== undefined ? { restart: c.restart } : {}),
    ...(c.restartRetries !== undefined ? { restartRetries: c.restartRetries } : {}),
    ...(c.requires.length > 0 ? { requires: c.requires } : {}),
    ...(c.wants.length > 0 ? { wants: c.wants } : {}),
    ...(c.after.length > 0 ? { after: c.after } : {}),
  };
}
