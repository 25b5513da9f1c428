// The record check that reads deployments (runtime/deployment-info-check.ts) against the
// schema that writes them (deploymentInfoSchema): every record, good or bad, gets the same
// verdict and, when good, the same value. The bad ones are made from a full record by
// replacing or removing one field at a time, so a field added to the schema and not to the
// check (or checked differently) fails here.
import test from 'ava';
import { checkDeploymentInfo } from '../../runtime/deployment-info-check.js';
import { deploymentInfoSchema } from '../../runtime/deployment.js';

const full = {
  version: 1,
  name: 'web',
  image: 'registry.example/web:1',
  imageId: `sha256:${'a'.repeat(64)}`,
  manifestDigest: `sha256:${'b'.repeat(64)}`,
  set: { PORT: '8080' },
  values: { NAME: 'web', UUID: 'u' },
  created: '2026-12-02T21:30:45.959Z',
  runtime: '/usr/sbin/runc',
  revision: 2,
  privileged: false,
  privileges: ['host network'],
  source: 'image-config',
  command: ['/bin/web', '--port', '8080'],
  stateDirectory: '/var/lib/web',
  hasTmpfiles: true,
  exposedPorts: ['8080/tcp'],
  hostFiles: [{ path: '/etc/web.conf', digest: `sha256:${'c'.repeat(64)}`, mode: 0o644 }],
  noContainerService: false,
  externalRootfs: '/srv/rootfs',
  containerSpec: { command: ['/bin/web'], env: { A: 'b' }, network: 'private' },
  owner: { configId: 'cfg', anything: [1, 2] },
  labels: { project: 'p' },
  origin: 'atomic',
  service: { restart: 'on-failure', restartRetries: 3, requires: ['db'], autoUpdate: true },
  healthcheck: { test: ['CMD', '/bin/true'], intervalMs: 30000, timeoutMs: 30000, retries: 3, startPeriodMs: 0, onFailure: 'none' },
  notify: true,
};

/** What a field may wrongly hold: wrong types, null, and values out of each field's range. */
const wrongValues: unknown[] = [null, 0, -1, 1.5, 2, '', 'x', true, [], ['x'], [1], {}, { a: 1 }, { a: 'b' }, [{ path: 'p', digest: 'd' }]];
const wrongInside: Record<string, unknown[]> = {
  containerSpec: [{ command: [] }, { network: 'none' }, { unknown: 1 }],
  service: [{ restart: 'sometimes' }, { requires: ['bad name!'] }, { unknown: 1 }],
  healthcheck: [{ ...full.healthcheck, intervalMs: 1 }, { ...full.healthcheck, test: ['NONE'] }, { ...full.healthcheck, extra: 1 }],
  hostFiles: [[{ path: 'p', digest: 'd', mode: 1.5 }], [{ path: 1, digest: 'd', mode: 1 }]],
  revision: [0, Number.MAX_SAFE_INTEGER + 2],
  set: [{ a: 1 }],
};

const sameVerdict = test.macro({
  exec(t, record: unknown) {
    const schema = deploymentInfoSchema.safeParse(record);
    const checked = checkDeploymentInfo(record);
    t.is(checked !== undefined, schema.success);
    if (schema.success) t.deepEqual(checked, schema.data);
  },
  title: (provided = '') => `the record check and the schema agree: ${provided}`,
});

test('the full record', sameVerdict, full);
test('a minimal record (optional fields absent)', sameVerdict, Object.fromEntries(Object.entries(full).filter(([key]) => !(deploymentInfoSchema.shape[key as keyof typeof full] as { isOptional(): boolean }).isOptional())));
test('unknown keys dropped, in host files too', sameVerdict, { ...full, extra: 1, hostFiles: [{ ...full.hostFiles[0], extra: true }] });
test('not an object', sameVerdict, [full]);
test('null', sameVerdict, null);

test('each field removed or replaced by wrong values: the same verdict', (t) => {
  for (const key of Object.keys(deploymentInfoSchema.shape)) {
    t.true(key in full, `the full record has ${key}`);
    const { [key]: _removed, ...without } = full as Record<string, unknown>;
    const variants = [without, ...[...wrongValues, ...(wrongInside[key] ?? [])].map((value) => ({ ...full, [key]: value }))];
    for (const record of variants) {
      const schema = deploymentInfoSchema.safeParse(record);
      const checked = checkDeploymentInfo(record);
      t.is(checked !== undefined, schema.success, `${key}: ${JSON.stringify((record as Record<string, unknown>)[key])}`);
      if (schema.success) t.deepEqual(checked, schema.data);
    }
  }
});
