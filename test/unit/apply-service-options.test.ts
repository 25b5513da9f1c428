import test from 'ava';
import type { DeclaredCheck, DeclaredContainer } from '../../app/apply/declared-container.js';
import { serviceOptionsOf } from '../../app/apply/service-options.js';
import { validateServiceOptions } from '../../runtime/index.js';

function declared(extra: Partial<DeclaredContainer>): DeclaredContainer {
  return { name: 'web-server', image: 'x', pull: 'missing', role: 'service', spec: {}, requires: [], wants: [], after: [], hostPaths: [], origin: { file: 'f', path: '/f', document: 1, documents: 1, object: 'pod/web', field: 'spec.containers[0]' }, ...extra };
}

const check = (probe: DeclaredCheck['probe']): DeclaredCheck => ({ probe, intervalSeconds: 2, timeoutSeconds: 1, retries: 3, startPeriodSeconds: 5 });

test('probes, restart policy and order as the runtime service options', (t) => {
  const options = serviceOptionsOf(
    declared({
      liveness: check({ type: 'http', port: 8080, path: '/healthz', https: false, headers: {} }),
      readiness: check({ type: 'tcp', port: 8080 }),
      restart: 'always',
      requires: ['web-prepare'],
      wants: ['db'],
      after: ['db', 'web-prepare'],
    }),
  );
  t.deepEqual(options, {
    health: { test: ['HTTP', 'http://127.0.0.1:8080/healthz'], intervalMs: 2000, timeoutMs: 1000, retries: 3, startPeriodMs: 5000 },
    restart: 'always',
    requires: ['web-prepare'],
    wants: ['db'],
    after: ['db', 'web-prepare'],
  });
  t.deepEqual(validateServiceOptions(options, 'web-server'), options);
  // A readiness probe alone reports and never restarts.
  t.deepEqual(serviceOptionsOf(declared({ readiness: check({ type: 'tcp', port: 53, host: '::1' }) })).health, { test: ['TCP', '[::1]:53'], intervalMs: 2000, timeoutMs: 1000, retries: 3, startPeriodMs: 5000, onFailure: 'none' });
  t.deepEqual(serviceOptionsOf(declared({ startup: check({ type: 'exec', command: ['pgrep', 'httpd'] }) })).health?.test, ['CMD', 'pgrep', 'httpd']);
  t.deepEqual(serviceOptionsOf(declared({ liveness: check({ type: 'shell', script: 'test -f /up' }) })).health?.test, ['CMD-SHELL', 'test -f /up']);
  t.deepEqual(serviceOptionsOf(declared({})), {});
});
