// auth.json reading (search order, key forms) and writing (atomic, 0600, others kept).
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { authFileSearchPath, defaultAuthFile, readCredentials, removeCredentials, storeCredentials } from '../../store/registry/auth-file.js';
import { SyscontainerError } from '../../common/errors.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function tempHome(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'syscontainer-authfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `fn` with the environment pointing every default into `dir` (tests in this file run serially). */
async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const key of Object.keys(env)) {
    saved[key] = process.env[key];
    if (env[key] === undefined) delete process.env[key];
    else process.env[key] = env[key];
  }
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const envFor = (dir: string) => ({
  REGISTRY_AUTH_FILE: undefined,
  XDG_RUNTIME_DIR: join(dir, 'run'),
  XDG_CONFIG_HOME: join(dir, 'config'),
  HOME: dir,
  DOCKER_CONFIG: undefined,
});

test.serial('defaults: REGISTRY_AUTH_FILE, else XDG_RUNTIME_DIR/containers/auth.json', async (t) => {
  const dir = await tempHome(t);
  await withEnv(envFor(dir), async () => {
    t.is(defaultAuthFile(), join(dir, 'run/containers/auth.json'));
    t.deepEqual(authFileSearchPath('/explicit.json'), ['/explicit.json', join(dir, 'run/containers/auth.json'), join(dir, 'config/containers/auth.json'), join(dir, '.docker/config.json')]);
  });
  await withEnv({ ...envFor(dir), REGISTRY_AUTH_FILE: '/env.json' }, async () => {
    t.is(defaultAuthFile(), '/env.json');
    t.is(authFileSearchPath()[0], '/env.json');
  });
});

test.serial('lookup order: explicit file, then XDG runtime, then ~/.docker/config.json', async (t) => {
  const dir = await tempHome(t);
  await mkdir(join(dir, 'run/containers'), { recursive: true });
  await mkdir(join(dir, '.docker'), { recursive: true });
  await writeFile(join(dir, 'run/containers/auth.json'), JSON.stringify({ auths: { 'a.example': { auth: b64('runtime:1') } } }));
  await writeFile(
    join(dir, '.docker/config.json'),
    JSON.stringify({ auths: { 'a.example': { auth: b64('docker:2') }, 'https://index.docker.io/v1/': { auth: b64('hub:3') }, 'helper.example': {} }, credsStore: 'x' }),
  );
  const explicit = join(dir, 'explicit.json');
  await writeFile(explicit, JSON.stringify({ auths: { 'b.example': { auth: b64('explicit:4') } } }));
  await withEnv(envFor(dir), async () => {
    t.deepEqual(await readCredentials('a.example', explicit), { username: 'runtime', password: '1' });
    t.deepEqual(await readCredentials('b.example', explicit), { username: 'explicit', password: '4' });
    t.deepEqual(await readCredentials('docker.io'), { username: 'hub', password: '3' });
    t.is(await readCredentials('helper.example'), undefined, 'credential-helper entries are skipped');
    t.is(await readCredentials('nowhere.example'), undefined);
  });
});

test.serial('namespace-scoped keys win over the host key', async (t) => {
  const dir = await tempHome(t);
  const file = join(dir, 'auth.json');
  await writeFile(file, JSON.stringify({ auths: { 'q.example': { auth: b64('host:1') }, 'q.example/team': { auth: b64('team:2') } } }));
  await withEnv(envFor(dir), async () => {
    t.deepEqual(await readCredentials('q.example/team/app', file), { username: 'team', password: '2' });
    t.deepEqual(await readCredentials('q.example/other', file), { username: 'host', password: '1' });
    t.deepEqual(await readCredentials('q.example', file), { username: 'host', password: '1' });
  });
});

test.serial('a malformed auth file is ECONFIG naming the file', async (t) => {
  const dir = await tempHome(t);
  const file = join(dir, 'auth.json');
  await writeFile(file, '{"auths": {');
  await withEnv(envFor(dir), async () => {
    const error = await t.throwsAsync(readCredentials('x.example', file));
    t.is((error as SyscontainerError).code, 'ECONFIG');
    t.is(error!.message, `auth file ${file} is not valid JSON`);
    await writeFile(file, JSON.stringify({ auths: { 'x.example': { auth: b64('nocolon') } } }));
    const error2 = await t.throwsAsync(readCredentials('x.example', file));
    t.regex(error2!.message, /entry "x\.example" is not base64 of user:password/);
  });
});

test.serial('store writes 0600 atomically, keeps other entries and keys; remove deletes one entry', async (t) => {
  const dir = await tempHome(t);
  const file = join(dir, 'deep/er/auth.json');
  await withEnv(envFor(dir), async () => {
    t.is(await storeCredentials('a.example', 'u', 'p:with:colons', file), file);
    t.is((await stat(file)).mode & 0o777, 0o600);
    t.is((await stat(join(dir, 'deep'))).mode & 0o777, 0o700);
    const existing = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...existing, credHelpers: { 'z.example': 'x' } }));
    await storeCredentials('https://b.example/', 'v', 'q', file);
    await storeCredentials('a.example', 'u2', 'p2', file);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    t.deepEqual(doc, { auths: { 'b.example': { auth: b64('v:q') }, 'a.example': { auth: b64('u2:p2') } }, credHelpers: { 'z.example': 'x' } });
    t.deepEqual(await readCredentials('a.example', file), { username: 'u2', password: 'p2' });
    t.deepEqual(await readdir(join(dir, 'deep/er')), ['auth.json'], 'no temp files left behind');
    t.true(await removeCredentials('a.example', file));
    t.false(await removeCredentials('a.example', file));
    t.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8')).auths), ['b.example']);
    t.false(await removeCredentials('a.example', join(dir, 'missing.json')));
  });
});
