// Tenancy, load and faults of the REST service, over TCP with tokens made by `syscontainer
// token create`, against the service run as users run it (its containers under the systemd
// of the test harness): a project sees and acts on its own containers only (others' are 404);
// missing headers 401, another project 403, a revoked token 401; quotas; privileged creates
// need an admin; 50 concurrent operations from 10 clients; kill -9 in the middle of a create;
// hostile input. Needs root, systemd, runc, docker-registry, busybox and docker.
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiRequest, rawExchange, type ApiAnswer } from '../helpers/api-client.js';
import { startApiService, type ApiService } from '../helpers/api-service.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.systemd, needs.registry, needs.busybox, { tools: ['docker'] });

let s: ApiService;
const tokens: Record<string, string> = {};
const name = (suffix: string) => `tc${process.pid}${suffix}`;

async function token(project: string, admin = false): Promise<string> {
  const made = await s.cli(['token', 'create', '--project', project, ...(admin ? ['--admin'] : [])]);
  if (made.exitCode !== 0) throw new Error(made.stderr);
  return made.stdout.trim();
}

function as(who: string, project = who): Record<string, string> {
  return { 'X-Auth-Token': tokens[who] as string, 'X-Auth-Project-Id': project };
}

const tcp = () => ({ port: s.port });
const call = (who: string, method: string, url: string, body?: unknown, project?: string): Promise<ApiAnswer> =>
  apiRequest(tcp(), method, url, { headers: as(who, project), ...(body !== undefined ? { body } : {}) });
const createBody = (extra: Record<string, unknown> = {}) => ({ Image: s.image, Cmd: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"], ...extra });

test.before(async () => {
  s = await startApiService('api-tenancy');
  const pulled = await s.cli(['pull', s.image]);
  if (pulled.exitCode !== 0) throw new Error(pulled.stderr);
  tokens.a = await token('alpha');
  tokens.b = await token('beta');
  tokens.admin = await token('ops', true);
  tokens.alpha = tokens.a;
});

test.after.always(async () => {
  await s?.stop();
});

test.serial('a project sees and acts on its own containers only: others are 404, an admin sees all', async (t) => {
  const mine = name('a1');
  const created = await call('a', 'POST', `/v1.41/containers/create?name=${mine}`, createBody(), 'alpha');
  t.is(created.status, 201, created.body.toString());
  const id = created.json.Id as string;
  const listA = await call('a', 'GET', '/v1.41/containers/json?all=1', undefined, 'alpha');
  t.deepEqual(listA.json.map((c: { Names: string[] }) => c.Names[0]), [`/${mine}`]);
  t.is(listA.json[0].Labels['io.syscontainer.project'], 'alpha');
  const listB = await call('b', 'GET', '/v1.41/containers/json?all=1', undefined, 'beta');
  t.deepEqual(listB.json, []);
  for (const [method, url] of [
    ['GET', `/containers/${mine}/json`],
    ['GET', `/containers/${id}/json`],
    ['GET', `/containers/${id.slice(0, 12)}/json`],
    ['POST', `/containers/${mine}/start`],
    ['POST', `/containers/${mine}/stop`],
    ['POST', `/containers/${mine}/kill`],
    ['GET', `/containers/${mine}/logs?stdout=1`],
    ['DELETE', `/containers/${mine}?force=1`],
  ] as const) {
    const answer = await call('b', method, url, undefined, 'beta');
    t.is(answer.status, 404, `${method} ${url}`);
    t.is(answer.json.message, `No such container: ${url.split('/')[2]!.split('?')[0]}`);
  }
  // Events too: each project's stream has its own containers' only.
  const until = (Date.now() / 1000 + 0.5).toFixed(3);
  const eventsA = (await call('a', 'GET', `/events?since=0&until=${until}`, undefined, 'alpha')).body.toString();
  t.regex(eventsA, new RegExp(`"Action":"create".*"name":"${mine}"`));
  const eventsB = (await call('b', 'GET', `/events?since=0&until=${until}`, undefined, 'beta')).body.toString();
  t.false(eventsB.includes(mine), eventsB);
  const admin = await call('admin', 'GET', '/containers/json?all=1', undefined, 'ops');
  t.true(admin.json.some((c: { Id: string }) => c.Id === id));
  // The other project's name is not free either, but its 409 says only that the name is taken.
  const clash = await call('b', 'POST', `/containers/create?name=${mine}`, createBody(), 'beta');
  t.is(clash.status, 409);
  t.is((await call('a', 'DELETE', `/containers/${id}?force=1`, undefined, 'alpha')).status, 204);
  t.deepEqual((await call('a', 'GET', '/containers/json?all=1', undefined, 'alpha')).json, []);
});

test.serial('missing headers are 401, another project 403, a revoked token 401: nothing is done', async (t) => {
  const none = await apiRequest(tcp(), 'POST', `/containers/create?name=${name('x')}`, { body: createBody() });
  t.is(none.status, 401);
  t.regex(none.json.message, /authentication required/);
  const noProject = await apiRequest(tcp(), 'GET', '/containers/json', { headers: { 'X-Auth-Token': tokens.a as string } });
  t.is(noProject.status, 401);
  const other = await call('a', 'POST', `/containers/create?name=${name('x')}`, createBody(), 'beta');
  t.is(other.status, 403);
  const temporary = await s.cli(['token', 'create', '--project', 'gamma']);
  const id = (await s.cli(['token', 'list', '--json'])).stdout;
  const record = (JSON.parse(id) as { id: string; project: string }[]).find((r) => r.project === 'gamma');
  const headers = { 'X-Auth-Token': temporary.stdout.trim(), 'X-Auth-Project-Id': 'gamma' };
  t.is((await apiRequest(tcp(), 'GET', '/containers/json', { headers })).status, 200);
  t.is((await s.cli(['token', 'revoke', record!.id])).exitCode, 0);
  const revoked = await apiRequest(tcp(), 'POST', `/containers/create?name=${name('x')}`, { headers, body: createBody() });
  t.is(revoked.status, 401);
  t.false((await s.cli(['containers', 'list'])).stdout.includes(name('x')), 'nothing was made');
});

test.serial('a quota refuses the create over it with 403 naming it; privileged creates need an admin', async (t) => {
  t.is((await s.cli(['quota', 'set', 'beta', '--containers', '1'])).exitCode, 0);
  const first = await call('b', 'POST', `/containers/create?name=${name('q1')}`, createBody(), 'beta');
  t.is(first.status, 201, first.body.toString());
  const second = await call('b', 'POST', `/containers/create?name=${name('q2')}`, createBody(), 'beta');
  t.is(second.status, 403);
  t.regex(second.json.message, /quota exceeded: project beta may have 1 container/);
  const oneOff = await call('b', 'POST', `/containers/create?name=${name('q3')}`, createBody({ HostConfig: { AutoRemove: true } }), 'beta');
  t.is(oneOff.status, 403, 'one-off runs count too');
  t.is((await call('b', 'DELETE', `/containers/${name('q1')}`, undefined, 'beta')).status, 204);
  t.is((await s.cli(['quota', 'set', 'beta', '--containers', 'none'])).exitCode, 0);

  const privileged = await call('a', 'POST', `/containers/create?name=${name('p')}`, createBody({ HostConfig: { Privileged: true } }), 'alpha');
  t.is(privileged.status, 403);
  t.is(privileged.json.message, 'privileged: needs an admin token');
  const binds = await call('a', 'POST', `/containers/create?name=${name('p')}`, createBody({ HostConfig: { Binds: ['/etc:/host-etc'] } }), 'alpha');
  t.is(binds.status, 403);
  t.is(binds.json.message, 'bind mount of /etc: needs an admin token');
  // Below serve --allow-bind any project may bind; a symlink there does not lead out of it.
  await mkdir(path.join(s.shared, 'data'), { recursive: true });
  await symlink('/etc', path.join(s.shared, 'escape'));
  const allowed = await call('a', 'POST', `/containers/create?name=${name('shared')}`, createBody({ HostConfig: { Binds: [`${s.shared}/data:/data:ro`] } }), 'alpha');
  t.is(allowed.status, 201, allowed.body.toString());
  const shown = await call('a', 'GET', `/containers/${name('shared')}/json`, undefined, 'alpha');
  t.deepEqual(shown.json.HostConfig.Binds, [`${s.shared}/data:/data:ro`]);
  t.like(shown.json.Mounts[0], { Type: 'bind', Source: `${s.shared}/data`, Destination: '/data', RW: false });
  t.is((await call('a', 'DELETE', `/containers/${name('shared')}`, undefined, 'alpha')).status, 204);
  const escape = await call('a', 'POST', `/containers/create?name=${name('p')}`, createBody({ HostConfig: { Binds: [`${s.shared}/escape:/data`] } }), 'alpha');
  t.is(escape.status, 403);
  t.is(escape.json.message, `bind mount of ${s.shared}/escape: needs an admin token`);
  const pid = await call('a', 'POST', `/containers/create?name=${name('p')}`, createBody({ HostConfig: { PidMode: 'host' } }), 'alpha');
  t.is(pid.status, 403);
});

test.serial('the docker CLI over TCP with HttpHeaders: a project\'s ps shows its own', async (t) => {
  const mine = name('cli');
  const run = await s.docker(['run', '-d', '--name', mine, s.image, 'sleep', '300'], { token: tokens.a, project: 'alpha' });
  t.is(run.exitCode, 0, run.stderr);
  const psA = await s.docker(['ps', '--format', '{{.Names}}'], { token: tokens.a, project: 'alpha' });
  t.is(psA.stdout.trim(), mine);
  const psB = await s.docker(['ps', '-a', '--format', '{{.Names}}'], { token: tokens.b, project: 'beta' });
  t.is(psB.stdout.trim(), '');
  const stopB = await s.docker(['stop', mine], { token: tokens.b, project: 'beta' });
  t.not(stopB.exitCode, 0);
  t.regex(stopB.stderr, /No such container/);
  const noToken = await s.docker(['ps'], { token: 'sct_nonsense', project: 'alpha' });
  t.not(noToken.exitCode, 0);
  t.is((await s.docker(['rm', '-f', mine], { token: tokens.a, project: 'alpha' })).exitCode, 0);
});

test.serial('50 concurrent creates, starts, lists and deletes from 10 clients: every container accounted for, no lock left', async (t) => {
  const clients = Array.from({ length: 10 }, (_, i) => i);
  const statuses: number[] = [];
  await Promise.all(
    clients.map(async (i) => {
      const who = i % 2 === 0 ? 'a' : 'b';
      const project = who === 'a' ? 'alpha' : 'beta';
      const mine = name(`load${i}`);
      const steps: [string, string, unknown?][] = [
        ['POST', `/containers/create?name=${mine}`, createBody()],
        ['POST', `/containers/${mine}/start`],
        ['GET', '/containers/json?all=1'],
        ['POST', `/containers/${mine}/stop`],
        ['DELETE', `/containers/${mine}`],
      ];
      for (const [method, url, body] of steps) statuses.push((await call(who, method, url, body, project)).status);
    }),
  );
  t.is(statuses.length, 50);
  t.deepEqual([...new Set(statuses)].sort(), [200, 201, 204]);
  const left = (await call('admin', 'GET', '/containers/json?all=1', undefined, 'ops')).json.filter((c: { Names: string[] }) => c.Names[0]!.includes('load'));
  t.deepEqual(left, []);
  const locks = (await readdir(s.root)).filter((e) => e.endsWith('.lock'));
  t.deepEqual(locks, []);
  t.deepEqual((await readdir(s.root)).filter((e) => e.includes('load')), []);
});

test.serial('the service killed with -9 in the middle of a create leaves no half-made container', async (t) => {
  const victim = name('kill');
  const pending = call('a', 'POST', `/containers/create?name=${victim}`, createBody(), 'alpha').catch(() => undefined);
  await sleep(400);
  await s.kill('SIGKILL');
  await pending;
  await s.restart();
  const entries = (await readdir(s.root)).filter((e) => e.startsWith(victim));
  const listed = (await call('a', 'GET', '/containers/json?all=1', undefined, 'alpha')).json.some((c: { Names: string[] }) => c.Names[0] === `/${victim}`);
  if (listed) t.deepEqual(entries.sort(), [victim, `${victim}.0`], 'complete: the link and its deployment');
  else t.deepEqual(entries, [], 'or nothing at all');
  const units = await readdir(path.join(s.base, 'units'));
  t.is(units.includes(`${victim}.service`), listed, 'a unit only with its deployment');
  if (listed) t.is((await call('a', 'DELETE', `/containers/${victim}`, undefined, 'alpha')).status, 204);
});

test.serial('hostile input gets 4xx and nothing else', async (t) => {
  const huge = await apiRequest(tcp(), 'POST', `/containers/create?name=${name('big')}`, { headers: as('a', 'alpha'), body: Buffer.alloc(2 * 1024 * 1024, 0x20) });
  t.is(huge.status, 413);
  const badJson = await call('a', 'POST', `/containers/create?name=${name('bad')}`, '{"Image": ', 'alpha');
  t.is(badJson.status, 400);
  t.regex(badJson.json.message, /not valid JSON/);
  const unsupported = await call('a', 'POST', `/containers/create?name=${name('bad')}`, createBody({ HostConfig: { Runtime: 'kata' } }), 'alpha');
  t.is(unsupported.status, 400);
  t.regex(unsupported.json.message, /^HostConfig\.Runtime: not supported/);
  const tiny = await call('a', 'POST', `/containers/create?name=${name('bad')}`, createBody({ HostConfig: { Memory: 1024 } }), 'alpha');
  t.is(tiny.status, 400);
  t.regex(tiny.json.message, /resources\.memoryBytes/);
  const dots = await call('a', 'POST', '/containers/create?name=..%2F..%2Fetc', createBody(), 'alpha');
  t.is(dots.status, 400);
  const imageDots = await call('a', 'GET', '/images/..%2F..%2Fetc/json', undefined, 'alpha');
  t.is(imageDots.status, 404);
  const containerDots = await call('a', 'GET', '/containers/..%2F..%2Fetc/json', undefined, 'alpha');
  t.is(containerDots.status, 404);
  const injected = await rawExchange(tcp(), `GET /_ping HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tokens.a}\r\nX-Auth-Project-Id: alpha\r\nX-Evil: a\nSet-Cookie: x=1\r\n\r\n`);
  t.regex(injected, /^HTTP\/1\.1 400/);
  t.notRegex(injected, /Set-Cookie/i);
  // Many connections at once: each gets its answer, none a 5xx.
  const many = await Promise.all(Array.from({ length: 500 }, () => apiRequest(tcp(), 'GET', '/_ping', { headers: as('a', 'alpha') }).then((r) => r.status, () => 0)));
  t.true(many.every((status) => status === 200 || status === 0), String([...new Set(many)]));
  t.true(many.filter((status) => status === 200).length >= 450);
  // 10,000 connections held open: the service keeps at most its limit (2048 per listener; the
  // rest it closes at once), stays small, and answers as before once they go.
  const held: Socket[] = [];
  for (let i = 0; i < 10_000; i += 1000) {
    await Promise.all(
      Array.from({ length: 1000 }, () =>
        new Promise<void>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port: s.port });
          held.push(socket);
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        }),
      ),
    );
  }
  // Those over the limit wait in the kernel's accept queue until the service takes and closes
  // them; on a loaded machine that takes longer than a second (2221 were still open after 1 s in
  // a CI run at load 8), so wait for it, bounded.
  const openCount = () => held.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
  for (let waited = 0; openCount() > 2100 && waited < 20_000; waited += 250) await sleep(250);
  const open = openCount();
  t.true(open <= 2100, `${open} connections kept open`);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${s.pid}/status`, 'utf8'))?.[1]);
  t.true(rssKiB < 400 * 1024, `service RSS ${rssKiB} KiB`);
  for (const socket of held) socket.destroy();
  await sleep(500);
  t.is((await apiRequest(tcp(), 'GET', '/_ping', { headers: as('a', 'alpha') })).status, 200);
  t.deepEqual((await readdir(s.root)).filter((e) => e.includes('big') || e.includes('bad') || e === 'etc'), []);
});
