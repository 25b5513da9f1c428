// Container routes: create, list, inspect, start, stop, restart, kill, wait, delete. A
// container made here is a system container (a deployment and its unit, not started), except
// `docker run --rm`'s (HostConfig.AutoRemove): a one-off run, gone when it ends.
import { randomBytes } from 'node:crypto';
import {
  builtOnFirstUse,
  createContainer,
  effectiveConfig,
  healthOptionsFromDocker,
  killContainer,
  launchContainer,
  parseContainerSpec,
  relaunchContainer,
  settledView,
  projectLabel,
  stopContainer,
  uninstallContainer,
  validateContainerName,
  waitConditions,
  waitForContainer,
  type ContainerMount,
  type ContainerSpec,
  type ContainerView,
  type ServiceOptions,
  type WaitCondition,
} from '../../app/index.js';
import * as z from 'zod';
import { parseFilters } from '../filters.js';
import { zeroValue } from '../schemas/zero-value.js';
import { HttpError } from '../http-error.js';
import { isPlausibleImageName } from '../image-name.js';
import { containerCreateSchema, type ContainerCreateBody } from '../schemas/container-create.js';
import { parseJsonBody } from '../request-body.js';
import type { RouteCall, RouteHandler } from '../server.js';
import type { Router } from '../router.js';
import { resolveTarget, targetId, targetProject, visibleTargets, type ContainerTarget } from '../container-target.js';
import { factsOf, inspectDocument, listEntry } from '../docker-shapes.js';
import { describeIssues } from '../request-body.js';

/** docker's RestartPolicy and Healthcheck as the service options of the runtime (which validates them again). */
function serviceOf(body: ContainerCreateBody): ServiceOptions {
  const policy = body.HostConfig?.RestartPolicy;
  const service: ServiceOptions = { restart: policy?.Name === undefined || policy.Name === '' ? 'no' : policy.Name };
  const retries = policy?.MaximumRetryCount ?? 0;
  if (retries > 0) {
    // As docker's daemon answers it.
    if (service.restart !== 'on-failure') throw new HttpError(400, `HostConfig.RestartPolicy.MaximumRetryCount: maximum retry count cannot be used with restart policy '${service.restart}'`);
    service.restartRetries = retries;
  }
  if (body.Healthcheck !== undefined && body.Healthcheck !== null) {
    try {
      // Test ["NONE"] turns the image's check off; an empty Test keeps the image's.
      const health = healthOptionsFromDocker(body.Healthcheck, 'create body');
      if (health !== undefined) service.health = health;
    } catch (error) {
      throw new HttpError(400, (error as Error).message.replace(/^image create body: config /, ''));
    }
  }
  return service;
}

/** docker's "SRC:DST[:ro|rw]" bind. */
function bindOf(text: string): ContainerMount {
  const [source = '', destination = '', mode, extra] = text.split(':');
  if (destination === '' || extra !== undefined || (mode !== undefined && !['ro', 'rw'].includes(mode))) {
    throw new HttpError(400, `HostConfig.Binds: ${JSON.stringify(text.slice(0, 200))} is not SOURCE:DESTINATION[:ro|rw] (named volumes are not supported)`);
  }
  return { type: 'bind', source, destination, ...(mode === 'ro' ? { readOnly: true } : {}) };
}

const mountSchema = builtOnFirstUse(() => z.object({ Type: z.enum(['bind', 'tmpfs']), Source: z.string().optional(), Target: z.string(), ReadOnly: z.boolean().optional() }).catchall(zeroValue));

/** The container spec (runtime/container-spec.ts) a create body asks for; validated there. */
function containerSpecOf(body: ContainerCreateBody, name: string): ContainerSpec {
  const hc = body.HostConfig ?? {};
  const spec: Record<string, unknown> = { network: 'host' };
  const entrypoint = body.Entrypoint ?? undefined;
  const cmd = body.Cmd ?? undefined;
  if (entrypoint !== undefined && entrypoint.some((word) => word !== '')) {
    spec.command = entrypoint;
    spec.args = cmd ?? [];
  } else if (entrypoint !== undefined) {
    // --entrypoint "": no entrypoint, Cmd is the whole command.
    if (cmd === undefined || cmd.length === 0) throw new HttpError(400, 'Entrypoint is empty and there is no Cmd: nothing to run');
    spec.command = cmd;
    spec.args = [];
  } else if (cmd !== undefined) {
    spec.args = cmd;
  }
  if ((body.Env ?? []).length > 0) {
    const env: Record<string, string> = {};
    for (const entry of body.Env ?? []) {
      const at = entry.indexOf('=');
      if (at <= 0) throw new HttpError(400, `Env: ${JSON.stringify(entry.slice(0, 100))} is not NAME=VALUE`);
      env[entry.slice(0, at)] = entry.slice(at + 1);
    }
    spec.env = env;
  }
  if (body.WorkingDir) spec.workingDir = body.WorkingDir;
  if (body.User) spec.user = body.User;
  if (hc.Privileged === true) spec.privileged = true;
  if ((hc.CapAdd ?? []).length > 0 || (hc.CapDrop ?? []).length > 0) {
    spec.capabilities = { ...((hc.CapAdd ?? []).length > 0 ? { add: hc.CapAdd } : {}), ...((hc.CapDrop ?? []).length > 0 ? { drop: hc.CapDrop } : {}) };
  }
  const mounts: ContainerMount[] = (hc.Binds ?? []).map(bindOf);
  for (const [index, raw] of (hc.Mounts ?? []).entries()) {
    const parsed = mountSchema.safeParse(raw);
    if (!parsed.success) throw new HttpError(400, `HostConfig.Mounts[${index}]: ${describeIssues(parsed.error)}`);
    const m = parsed.data;
    if (m.Type === 'bind') mounts.push({ type: 'bind', source: m.Source ?? '', destination: m.Target, ...(m.ReadOnly === true ? { readOnly: true } : {}) });
    else mounts.push({ type: 'tmpfs', destination: m.Target });
  }
  if (mounts.length > 0) spec.mounts = mounts;
  const resources: Record<string, number> = {};
  if ((hc.Memory ?? 0) > 0) resources.memoryBytes = hc.Memory as number;
  if ((hc.NanoCpus ?? 0) > 0) resources.cpuMillis = Math.max(1, Math.round((hc.NanoCpus as number) / 1e6));
  // docker's shares (2-262144, default 1024) onto systemd's weight (1-10000, default 100), as runc maps them for cgroup v2.
  if ((hc.CpuShares ?? 0) > 0) resources.cpuWeight = Math.min(10000, Math.max(1, Math.round(1 + (((hc.CpuShares as number) - 2) * 9999) / 262142)));
  if (Object.keys(resources).length > 0) spec.resources = resources;
  if (hc.PidMode === 'host') spec.hostPid = true;
  if (hc.IpcMode === 'host') spec.hostIpc = true;
  if (hc.UTSMode === 'host') spec.hostUts = true;
  return parseContainerSpec(spec, `container ${name}`);
}

/** docker generates names; ours say where they come from, and are valid unit names. */
function generatedName(): string {
  return `syscontainer-${randomBytes(5).toString('hex')}`;
}

async function create(call: RouteCall): Promise<void> {
  const body = parseJsonBody(call.body, containerCreateSchema);
  for (const key of ['UsernsMode', 'CgroupnsMode'] as const) {
    const value = body.HostConfig?.[key] ?? '';
    if (value !== '' && value !== 'private') throw new HttpError(400, `HostConfig.${key}: ${JSON.stringify(value)} is not supported (only the container's own)`);
  }
  for (const key of ['PidMode', 'IpcMode', 'UTSMode'] as const) {
    const value = body.HostConfig?.[key] ?? '';
    if (value !== '' && value !== 'private' && value !== 'host') throw new HttpError(400, `HostConfig.${key}: ${JSON.stringify(value)} is not supported (host or the container's own)`);
  }
  if ((body.Hostname ?? '') !== '') throw new HttpError(400, 'Hostname: not supported (a container\'s hostname is its name)');
  const requested = call.query.get('name');
  const name = requested === null || requested === '' ? generatedName() : requested.replace(/^\//, '');
  validateContainerName(name);
  if (!isPlausibleImageName(body.Image)) throw new HttpError(404, `No such image: ${body.Image.slice(0, 256)}`);
  const created = await createContainer(call.services.app, call.services.tenancy, {
    name,
    image: body.Image,
    caller: call.principal,
    labels: body.Labels ?? {},
    containerSpec: containerSpecOf(body, name),
    service: serviceOf(body),
    autoRemove: body.HostConfig?.AutoRemove === true,
    openStdin: body.OpenStdin === true,
  });
  call.reply.json(201, { Id: created.id, Warnings: [] });
}

async function configOf(call: RouteCall, target: ContainerTarget) {
  const image = await call.services.app.store.getImage(target.kind === 'unit' ? target.view.imageId : target.run.imageId);
  if (image === undefined) return {};
  return effectiveConfig(image.config, target.kind === 'unit' ? target.view.containerSpec : target.run.containerSpec);
}

async function list(call: RouteCall): Promise<void> {
  const all = ['1', 'true'].includes(call.query.get('all') ?? '');
  const filters = parseFilters(call.query.get('filters'), ['id', 'name', 'label', 'status']);
  const limit = Number(call.query.get('limit') ?? '-1');
  let entries = (await visibleTargets(call)).map((t) => factsOf(t));
  if (!all && filters.status === undefined) entries = entries.filter((f) => f.state === 'running');
  const any = (key: string, test: (value: string) => boolean) => filters[key] === undefined || filters[key]!.some(test);
  entries = entries.filter(
    (f) =>
      any('id', (v) => f.id.startsWith(v)) &&
      any('name', (v) => f.name.includes(v.replace(/^\//, ''))) &&
      any('status', (v) => v === f.state) &&
      (filters.label ?? []).every((v) => {
        const [key, value] = v.split('=', 2) as [string, string | undefined];
        return value === undefined ? f.labels[key] !== undefined : f.labels[key] === value;
      }),
  );
  entries.sort((a, b) => b.created.getTime() - a.created.getTime());
  if (Number.isInteger(limit) && limit > 0) entries = entries.slice(0, limit);
  call.reply.json(200, entries.map(listEntry));
}

async function inspect(call: RouteCall): Promise<void> {
  const found = await resolveTarget(call, call.params.id as string);
  // A run that ended without a record (its monitor killed) is shown with its lost exit, as status shows it.
  const target: ContainerTarget = found.kind === 'unit' ? { kind: 'unit', view: await settledView(call.services.app, found.view) } : found;
  const facts = factsOf(target, await configOf(call, target));
  call.reply.json(200, inspectDocument(facts, call.services.execs.forContainer(targetId(target))));
}

async function start(call: RouteCall): Promise<void> {
  // Which container only: whether it runs is asked once, by the launch, under its lock.
  const target = await resolveTarget(call, call.params.id as string, { askRunc: false });
  if (target.kind === 'one-off') {
    if (target.run.state !== 'created') return call.reply.noContent(304);
    call.services.tenancy.oneOffs.start(target.run.id);
    return call.reply.noContent();
  }
  if ((await launchContainer(call.services.app, { name: target.view.name })) === 'running') return call.reply.noContent(304);
  call.reply.noContent();
}

/** `t`: seconds to wait after the stop signal before killing (docker's stop -t); absent: the unit's own timeout. */
function stopTimeout(call: RouteCall): number | undefined {
  const t = call.query.get('t');
  if (t === null || t === '' || t === '-1') return undefined;
  if (!/^\d{1,5}$/.test(t)) throw new HttpError(400, 't: expected a number of seconds');
  return Number(t);
}

async function stopRoute(call: RouteCall): Promise<void> {
  const target = await resolveTarget(call, call.params.id as string);
  const timeoutSec = stopTimeout(call);
  if (target.kind === 'one-off') {
    if (target.run.state !== 'running') return call.reply.noContent(304);
    const oneOffs = call.services.tenancy.oneOffs;
    await oneOffs.kill(target.run.id, 'TERM');
    const timer = setTimeout(() => void oneOffs.kill(target.run.id, 'KILL').catch(() => undefined), (timeoutSec ?? 10) * 1000);
    await oneOffs.exited(target.run.id);
    clearTimeout(timer);
    await call.services.events.emit('container', 'stop', target.run.id, { name: target.run.name, image: target.run.image }, targetProject(target));
  } else {
    if (target.view.state !== 'running') return call.reply.noContent(304);
    // Tells of the exit (die), then the stop, as docker's.
    await stopContainer(call.services.app, { name: target.view.name, ...(timeoutSec !== undefined ? { timeoutSec } : {}) });
  }
  call.reply.noContent();
}

async function restart(call: RouteCall): Promise<void> {
  const target = await resolveTarget(call, call.params.id as string);
  if (target.kind === 'one-off') throw new HttpError(409, `container ${target.run.name} is a one-off run (--rm): it cannot be restarted`);
  const timeoutSec = stopTimeout(call);
  await relaunchContainer(call.services.app, { name: target.view.name, ...(timeoutSec !== undefined ? { timeoutSec } : {}) });
  call.reply.noContent();
}

async function killRoute(call: RouteCall): Promise<void> {
  const target = await resolveTarget(call, call.params.id as string);
  const signal = call.query.get('signal') ?? 'KILL';
  if (target.kind === 'one-off') {
    await call.services.tenancy.oneOffs.kill(target.run.id, signal);
    await call.services.events.emit('container', 'kill', target.run.id, { name: target.run.name, signal }, targetProject(target));
  } else {
    await killContainer(call.services.app, { name: target.view.name, signal });
  }
  call.reply.noContent();
}

async function waitRoute(call: RouteCall): Promise<void> {
  const condition = (call.query.get('condition') ?? 'not-running') as WaitCondition;
  if (!waitConditions.includes(condition)) throw new HttpError(400, `condition: expected ${waitConditions.join(', ')}`);
  // The next exit does not depend on whether it runs now (docker's run sends this wait before its start): runc is not asked.
  const target = await resolveTarget(call, call.params.id as string, { askRunc: condition !== 'next-exit' });
  // Headers at once: docker's run sends start only once the wait's headers have come back.
  const out = call.reply.stream(200, 'application/json');
  const answer = (code: number, error?: string) => out.end(`${JSON.stringify({ StatusCode: code, Error: error ? { Message: error } : null })}\n`);
  if (target.kind === 'one-off') {
    const run = await call.services.tenancy.oneOffs.exited(target.run.id);
    return answer(run?.exitCode ?? 0, run?.error);
  }
  try {
    answer(await waitForContainer(call.services.app, target.view, condition, call.reply.closed));
  } catch {
    out.end();
  }
}

async function remove(call: RouteCall): Promise<void> {
  const target = await resolveTarget(call, call.params.id as string);
  const force = ['1', 'true'].includes(call.query.get('force') ?? '');
  const volumes = ['1', 'true'].includes(call.query.get('v') ?? '');
  if (target.kind === 'one-off') {
    await call.services.tenancy.oneOffs.remove(target.run.id, force);
    return call.reply.noContent();
  }
  if (target.view.state === 'running' && !force) {
    throw new HttpError(409, `You cannot remove a running container ${target.view.id}. Stop the container before attempting removal or force remove`);
  }
  // docker's rm -f kills a running container (kill, die, destroy); it does not wait for it to stop gracefully.
  await uninstallContainer(call.services.app, { name: target.view.name, purge: volumes, kill: force && target.view.state === 'running' });
  call.reply.noContent();
}

export function containerRoutes(router: Router<RouteHandler>): void {
  router
    .add('POST', '/containers/create', create)
    .add('GET', '/containers/json', list)
    .add('GET', '/containers/{id}/json', inspect)
    .add('POST', '/containers/{id}/start', start)
    .add('POST', '/containers/{id}/stop', stopRoute)
    .add('POST', '/containers/{id}/restart', restart)
    .add('POST', '/containers/{id}/kill', killRoute)
    .add('POST', '/containers/{id}/wait', waitRoute)
    .add('DELETE', '/containers/{id}', remove);
}
