import test from 'ava';
import { converge, type ConvergeBackend } from '../../app/apply/converge.js';
import type { DeclaredContainer } from '../../app/apply/declared-container.js';
import type { Plan } from '../../app/apply/plan.js';

function declared(name: string, extra: Partial<DeclaredContainer> = {}): DeclaredContainer {
  return { name, image: 'x', pull: 'missing', role: 'service', spec: {}, requires: [], wants: [], after: [], hostPaths: [], origin: { file: 'f', path: '/f', document: 1, documents: 1, object: 'paunch', field: name }, ...extra };
}

function fakeBackend(fail: Set<string>, calls: string[], up = new Set<string>()): ConvergeBackend {
  const step = (what: string) => async (c: DeclaredContainer | string) => {
    const name = typeof c === 'string' ? c : c.name;
    calls.push(`${what} ${name}`);
    if (fail.has(name)) throw new Error(`${name} did not stay running`);
  };
  return {
    ensurePod: async (pod) => void calls.push(`pod ${pod}`),
    removePod: async (pod) => void calls.push(`remove pod ${pod}`),
    ensureHostPaths: async () => undefined,
    create: step('create'),
    update: step('update'),
    remove: step('remove'),
    isUp: async (name) => up.has(name),
    start: step('start'),
    exec: async (e) => {
      calls.push(`exec ${e.name} in ${e.target}`);
      if (fail.has(e.name)) throw new Error(`${e.name} exited with 1`);
    },
  };
}

test('steps run in order; a failure skips what requires it and nothing else; removals first', async (t) => {
  const init = declared('web-init', { role: 'oneshot', spec: { pod: 'web', network: 'pod', oneshot: true } });
  const server = declared('web-server', { requires: ['web-init'], spec: { pod: 'web', network: 'pod' } });
  const db = declared('db');
  const cache = declared('cache', { wants: ['db'], after: ['db'] });
  const plan: Plan = {
    configId: 'c',
    errors: [],
    steps: [
      { name: 'web-init', action: 'create', declared: init, specDigest: 'a', pod: 'web' },
      { name: 'web-server', action: 'create', declared: server, specDigest: 'b', pod: 'web' },
      { name: 'db', action: 'update', declared: db, specDigest: 'c' },
      { name: 'cache', action: 'unchanged', declared: cache, specDigest: 'd' },
      { name: 'old', action: 'remove' },
    ],
  };
  const calls: string[] = [];
  const outcomes = await converge({ plan, backend: fakeBackend(new Set(['web-init', 'db']), calls, new Set()), source: ['f'], pods: new Map([['web', { hostNetwork: false, volumes: [] }]]), podsToRemove: ['gone'] });
  t.deepEqual(calls, ['remove old', 'pod web', 'create web-init', 'update db', 'start cache', 'remove pod gone']);
  t.deepEqual(outcomes.map((o) => [o.step.name, o.ok]), [['old', true], ['web-init', false], ['web-server', 'skipped'], ['db', false], ['cache', true]]);
});

test('a container an update left stopped is started; an unchanged init container runs again only for a pod that is down', async (t) => {
  const init = declared('web-init', { role: 'oneshot', spec: { pod: 'web', network: 'pod', oneshot: true } });
  const server = declared('web-server', { requires: ['web-init'], spec: { pod: 'web', network: 'pod' } });
  const db = declared('db');
  const steps = (serverAction: 'unchanged' | 'update'): Plan => ({
    configId: 'c',
    errors: [],
    steps: [
      { name: 'web-init', action: 'unchanged', declared: init, specDigest: 'a', pod: 'web' },
      { name: 'web-server', action: serverAction, declared: server, specDigest: 'b', pod: 'web' },
      { name: 'db', action: 'update', declared: db, specDigest: 'c' },
    ],
  });
  const pods = new Map([['web', { hostNetwork: false, volumes: [] }]]);
  // Everything up but db, which its update (of a stopped container) left stopped.
  let calls: string[] = [];
  await converge({ plan: steps('unchanged'), backend: fakeBackend(new Set(), calls, new Set(['web-server'])), source: ['f'], pods, podsToRemove: [] });
  t.deepEqual(calls, ['update db', 'start db']);
  // The pod is down (a killed apply, runc-direct): its init container runs first, then the server.
  calls = [];
  await converge({ plan: steps('unchanged'), backend: fakeBackend(new Set(), calls, new Set(['db'])), source: ['f'], pods, podsToRemove: [] });
  t.deepEqual(calls, ['start web-init', 'start web-server', 'update db']);
});

test('an exec runs in its place; one whose container failed is skipped', async (t) => {
  const origin = { file: 'f', path: '/f', document: 1, documents: 1, object: 'paunch', field: 'init' };
  const plan: Plan = {
    configId: 'c',
    errors: [],
    steps: [
      { name: 'db', action: 'create', declared: declared('db'), specDigest: 'a' },
      { name: 'init', action: 'exec', exec: { name: 'init', target: 'db', command: ['true'], exitCodes: [0], after: ['db'], origin } },
      { name: 'api', action: 'create', declared: declared('api'), specDigest: 'b' },
    ],
  };
  let calls: string[] = [];
  const outcomes = await converge({ plan, backend: fakeBackend(new Set(), calls, new Set(['db', 'api'])), source: ['f'], pods: new Map(), podsToRemove: [] });
  t.deepEqual(calls, ['create db', 'exec init in db', 'create api']);
  t.true(outcomes.every((o) => o.ok === true));
  calls = [];
  const failed = await converge({ plan, backend: fakeBackend(new Set(['db']), calls, new Set()), source: ['f'], pods: new Map(), podsToRemove: [] });
  t.deepEqual(failed.map((o) => [o.step.name, o.ok]), [['db', false], ['init', 'skipped'], ['api', true]]);
});
