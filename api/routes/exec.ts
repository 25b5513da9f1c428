// Exec: POST /containers/{id}/exec makes a record, POST /exec/{id}/start runs the command in
// the running container (its output in frames, over a hijacked connection when the client
// upgrades), GET /exec/{id}/json tells its exit code. An exec belongs to the project that
// made it: others get 404.
import { execInContainer, maySee } from '../../app/index.js';
import { HttpError } from '../http-error.js';
import { encodeFrames } from '../multiplexed-stream.js';
import { parseJsonBody } from '../request-body.js';
import { execCreateSchema, execStartSchema } from '../schemas/container-create.js';
import type { RouteCall, RouteHandler } from '../server.js';
import type { Router } from '../router.js';
import { resolveTarget, targetProject } from '../container-target.js';
import type { ExecRecord } from '../exec-registry.js';
import { multiplexedType } from './container-streams.js';

async function createExec(call: RouteCall): Promise<void> {
  const body = parseJsonBody(call.body, execCreateSchema);
  const target = await resolveTarget(call, call.params.id as string);
  if (target.kind === 'one-off' || target.view.state !== 'running') throw new HttpError(409, `Container ${call.params.id} is not running`);
  const record = call.services.execs.create({
    containerId: target.view.id,
    containerName: target.view.name,
    project: call.principal.project ?? targetProject(target),
    command: body.Cmd,
    attachStdout: body.AttachStdout !== false,
    attachStderr: body.AttachStderr !== false,
  });
  call.reply.json(201, { Id: record.id });
}

function findExec(call: RouteCall): ExecRecord {
  const record = call.services.execs.get(call.params.id as string);
  if (record === undefined || !maySee(call.principal, record.project)) throw new HttpError(404, `No such exec instance: ${(call.params.id as string).slice(0, 80)}`);
  return record;
}

async function startExec(call: RouteCall): Promise<void> {
  const body = parseJsonBody(call.body, execStartSchema);
  const record = findExec(call);
  if (record.started) throw new HttpError(409, `exec ${record.id} has already run`);
  record.started = true;
  record.running = true;
  const run = execInContainer(call.services.app, { name: record.containerName, command: record.command }).then(
    (result) => {
      call.services.execs.finished(record, result.exitCode);
      return result;
    },
    (error: unknown) => {
      call.services.execs.finished(record, 126);
      throw error;
    },
  );
  if (body.Detach === true) {
    run.catch(() => undefined);
    return call.reply.noContent(200);
  }
  const stream = call.reply.isUpgrade ? call.reply.hijack(multiplexedType) : undefined;
  const out = stream ?? call.reply.stream(200, multiplexedType);
  try {
    const result = await run;
    if (record.attachStdout) out.write(encodeFrames('stdout', result.stdout === '' || result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`));
    if (record.attachStderr) out.write(encodeFrames('stderr', result.stderr === '' || result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`));
  } catch (error) {
    out.write(encodeFrames('system', `${error instanceof Error ? error.message : String(error)}\n`));
  }
  out.end();
}

async function inspectExec(call: RouteCall): Promise<void> {
  const record = findExec(call);
  call.reply.json(200, {
    ID: record.id,
    Running: record.running,
    ExitCode: record.exitCode,
    ProcessConfig: { tty: false, entrypoint: record.command[0], arguments: record.command.slice(1), privileged: false, user: '' },
    OpenStdin: false,
    OpenStderr: record.attachStderr,
    OpenStdout: record.attachStdout,
    CanRemove: !record.running && record.started,
    ContainerID: record.containerId,
    DetachKeys: '',
    Pid: record.pid,
  });
}

export function execRoutes(router: Router<RouteHandler>): void {
  router.add('POST', '/containers/{id}/exec', createExec).add('POST', '/exec/{id}/start', startExec).add('GET', '/exec/{id}/json', inspectExec);
}
