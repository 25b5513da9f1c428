// update --all over several containers of a few images, through the real CLI, the real
// registry (behind a logging proxy: what the client asked for is read from its log) and runc:
// each image's manifest is asked for once, however many containers run it, and an image that
// cannot be pulled fails its own containers only, each with the pull's error.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, faultKitNeeds, isolatedEnv, pushImage, serviceImage } from '../helpers/fault-kit.js';
import { startFaultProxy, type FaultAction, type FaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

let registry: RegistryServer;
let proxy: FaultProxy;
let dir: string | undefined;
let env: Record<string, string>;
/** What the proxy answers for a request of the manifest of `missing`'s tag (pass: upstream's answer). */
let missing: string | undefined;

const repositories = { a: 'many/alpha', b: 'many/beta' };
const containers = { a: ['ua-1', 'ua-2', 'ua-3'], b: ['ub-1', 'ub-2'] };
const manifestPath = (repository: string) => `/v2/${repository}/manifests/v1`;
const manifestGets = (repository: string) => proxy.requestsOf('GET', manifestPath(repository)).length + proxy.requestsOf('HEAD', manifestPath(repository)).length;
const notFound: FaultAction = { kind: 'status', status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' };

test.before(async () => {
  registry = await startRegistry();
  for (const [key, repository] of Object.entries(repositories)) await pushImage(registry.host, repository, 'v1', await serviceImage(`update-all-${key}`));
  proxy = await startFaultProxy(registry.host, (req) => (missing !== undefined && req.path === manifestPath(missing) ? notFound : { kind: 'pass' }));
  dir = await mkdtemp(join(tmpdir(), 'update-all-'));
  env = isolatedEnv(dir);
  for (const key of ['a', 'b'] as const) {
    for (const name of containers[key]) {
      const installed = await cli(['install', '--system', '--no-start', '--name', name, `${proxy.host}/${repositories[key]}:v1`], env);
      if (installed.exitCode !== 0) throw new Error(`install ${name}: ${installed.stderr}`);
    }
  }
});

test.after.always(async () => {
  if (dir !== undefined) for (const name of [...containers.a, ...containers.b]) await cli(['uninstall', name], env).catch(() => undefined);
  await proxy?.stop();
  await registry?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test.serial('nothing to do: every container unchanged, one manifest request per image', async (t) => {
  const before = { a: manifestGets(repositories.a), b: manifestGets(repositories.b) };
  const result = await cli(['update', '--all'], env);
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /update --all: 0 updated, 5 unchanged, 0 rolled back, 0 failed/);
  t.is(manifestGets(repositories.a) - before.a, 1, 'three containers of alpha, its manifest asked for once');
  t.is(manifestGets(repositories.b) - before.b, 1, 'two containers of beta, its manifest asked for once');
  const listed = JSON.parse((await cli(['containers', 'list', '--json'], env)).stdout) as { name: string; state: string }[];
  t.deepEqual(
    listed.map((c) => [c.name, c.state]),
    [...containers.a, ...containers.b].map((name) => [name, 'stopped']),
  );
});

test.serial('an image that cannot be pulled fails its containers only, with one pull of it', async (t) => {
  missing = repositories.b;
  t.teardown(() => (missing = undefined));
  const before = manifestGets(repositories.b);
  const result = await cli(['update', '--all'], env);
  t.is(result.exitCode, 1, 'a failed container makes the exit non-zero');
  t.regex(result.stdout, /update --all: 0 updated, 3 unchanged, 0 rolled back, 2 failed/);
  for (const name of containers.a) t.regex(result.stdout, new RegExp(`^${name}\\s+unchanged`, 'm'));
  for (const name of containers.b) t.regex(result.stdout, new RegExp(`^${name}\\s+failed`, 'm'));
  t.is(manifestGets(repositories.b) - before, 1, 'the failed pull is not tried again for the second container of beta');
  t.is((result.stderr.match(/manifest unknown/gi) ?? []).length, 2, `each container of beta says why: ${result.stderr}`);
});
