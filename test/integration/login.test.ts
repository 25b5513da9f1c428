// login / logout / pull with stored credentials, through the CLI, against a real registry with
// htpasswd auth — and against one with token auth.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pushBuiltImage } from '../../images/build/push-image.js';
import { defaultRegistriesConf } from '../../store/registry/registries-conf.js';
import { RegistryPush } from '../../store/registry/push.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { buildFixture } from '../helpers/fixtures.js';
import { startRegistry, type RegistryServerOptions } from '../helpers/registry-server.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.registry, { tools: ['htpasswd'] });

const user = { username: 'operator', password: 's3cret pass' };

async function securedRegistry(t: import('ava').ExecutionContext, options: RegistryServerOptions) {
  const registry = await startRegistry(options);
  t.teardown(() => registry.stop());
  const push = new RegistryPush({ registry: registry.host, conf: defaultRegistriesConf(), credentials: user });
  const built = await buildFixture('layered');
  await pushBuiltImage(push, 'private/app', 'latest', built);
  return { registry, built };
}

for (const [kind, options] of [
  ['htpasswd (Basic)', { htpasswd: user }],
  ['token (Bearer)', { token: { users: { [user.username]: user.password } } }],
] as [string, RegistryServerOptions][]) {
  test(`login, pull and logout against a registry with ${kind} auth`, async (t) => {
    const dir = await tempDir(t);
    const { registry, built } = await securedRegistry(t, options);
    const authFile = join(dir, 'auth.json');
    const env = { REGISTRY_AUTH_FILE: authFile };
    const reference = `${registry.host}/private/app:latest`;

    const anonymous = await runCli(['--root', join(dir, 'root'), 'pull', reference], env);
    t.is(anonymous.exitCode, 1);
    t.regex(anonymous.stderr, /^error: image .*private\/app:latest: .*(authentication required|401|unauthorized)/im);

    const wrong = await runCli(['login', '-u', user.username, '--password-stdin', registry.host], env, 'not the password\n');
    t.is(wrong.exitCode, 1);
    t.regex(wrong.stderr, new RegExp(`error: .*${registry.host.replace(/\./g, '\\.')}.*(credentials|401|denied|unauthorized)`, 'i'));
    await t.throwsAsync(stat(authFile), undefined, 'nothing stored for wrong credentials');

    const right = await runCli(['login', '-u', user.username, '--password-stdin', registry.host], env, `${user.password}\n`);
    t.is(right.exitCode, 0, right.stderr);
    t.is((await stat(authFile)).mode & 0o777, 0o600, 'credentials file is 0600');

    const pulled = await runCli(['--root', join(dir, 'root'), 'pull', reference], env);
    t.is(pulled.exitCode, 0, pulled.stderr);
    t.is(pulled.stdout.trim(), built.manifestDigest);

    const out = await runCli(['logout', registry.host], env);
    t.is(out.exitCode, 0, out.stderr);
    const again = await runCli(['logout', registry.host], env);
    t.is(again.exitCode, 1);
    t.regex(again.stderr, /not logged in/);
  });
}
