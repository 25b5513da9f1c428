// Exec: POST /containers/{id}/exec makes a record, POST /exec/{id}/start runs the command in
// the running container (its output in frames, over a hijacked connection when the client
// upgrades), GET /exec/{id}/json tells its exit code. Output goes out in frames as the
// command writes it; with AttachStdin the client's bytes are its stdin, and the client's
// half-close its EOF (`echo hi | docker exec -i C cat`). No TTY: runc's console needs a
// socket this service does not hold (refused with 400 at create). An exec belongs to the project that
// made it: others get 404.
import { execStreaming, maySee } from '../../app/index.js';
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
    attachStdin: body.AttachStdin === true,
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
  const detached = body.Detach === true;
  // The stream opens before the command starts, so not a byte of its output waits for its end.
  let out: { write(chunk: Uint8Array): unknown; end(): void } | undefined;
  const pending: Buffer[] = [];
  const send = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
    if (detached || !(stream === 'stdout' ? record.attachStdout : record.attachStderr)) return;
    const frame = encodeFrames(stream, chunk);
    if (out === undefined) pending.push(frame);
    else out.write(frame);
  };
  let running;
  try {
    running = await execStreaming(call.services.app, { name: record.containerName, command: record.command, stdin: record.attachStdin && !detached, onOutput: send });
  } catch (error) {
    call.services.execs.finished(record, 126);
    throw error;
  }
  record.pid = running.pid;
  const exited = running.exitCode.then(
    (code) => call.services.execs.finished(record, code),
    () => call.services.execs.finished(record, 126),
  );
  if (detached) return call.reply.noContent(200);
  if (call.reply.isUpgrade) {
    const stream = call.reply.hijack(multiplexedType);
    out = stream;
    const stdin = running.stdin;
    if (stdin !== undefined) {
      // Raw bytes (no frames) from the client; its half-close (docker's CloseWrite) is the command's EOF.
      stream.onData((chunk) => void stdin.write(chunk));
      stream.onEnd(() => stdin.end());
    }
  } else {
    out = call.reply.stream(200, multiplexedType);
    running.stdin?.end();
  }
  for (const frame of pending.splice(0)) out.write(frame);
  await exited;
  out.end();
}

async function inspectExec(call: RouteCall): Promise<void> {
  const record = findExec(call);
  call.reply.json(200, {
    ID: record.id,
    Running: record.running,
    ExitCode: record.exitCode,
    ProcessConfig: { tty: false, entrypoint: record.command[0], arguments: record.command.slice(1), privileged: false, user: '' },
    OpenStdin: record.attachStdin,
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
