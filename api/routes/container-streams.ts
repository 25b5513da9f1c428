// A container's output: logs (what it wrote, optionally followed) and attach (a hijacked
// connection carrying its output from now until it exits), in docker's multiplexed frames.
import { containerOutput, followContainerOutput, readRunRecord, type JournalEntry } from '../../app/index.js';
import { HttpError } from '../http-error.js';
import { encodeFrames } from '../multiplexed-stream.js';
import type { RouteCall, RouteHandler } from '../server.js';
import type { Router } from '../router.js';
import { resolveTarget } from '../container-target.js';
import { parseDockerTime } from './system.js';

export const multiplexedType = 'application/vnd.docker.multiplexed-stream';
const flag = (call: RouteCall, name: string) => ['1', 'true'].includes(call.query.get(name) ?? '');

/** RFC 3339 with nanoseconds, as docker prefixes lines with `timestamps`. */
function timestamp(timeUsec: number): string {
  const iso = new Date(Math.floor(timeUsec / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(timeUsec % 1_000_000).padStart(6, '0')}000Z`;
}

async function logs(call: RouteCall): Promise<void> {
  const target = await resolveTarget(call, call.params.id as string);
  const stdout = flag(call, 'stdout');
  const stderr = flag(call, 'stderr');
  if (!stdout && !stderr) throw new HttpError(400, 'you must choose at least one stream (stdout or stderr)');
  const tailText = call.query.get('tail') ?? 'all';
  if (tailText !== 'all' && !/^\d{1,7}$/.test(tailText)) throw new HttpError(400, 'tail: expected a number or "all"');
  const tail = tailText === 'all' ? undefined : Number(tailText);
  const sinceMs = parseDockerTime(call.query.get('since'), 'since');
  const untilMs = parseDockerTime(call.query.get('until'), 'until');
  const timestamps = flag(call, 'timestamps');
  const follow = flag(call, 'follow');
  const out = call.reply.stream(200, multiplexedType);
  const write = (entry: JournalEntry) => {
    if (entry.stream === 'stdout' ? stdout : stderr) out.write(encodeFrames(entry.stream, `${timestamps ? `${timestamp(entry.timeUsec)} ` : ''}${entry.message}\n`));
  };
  if (target.kind === 'one-off') {
    // A one-off run's output goes to whoever attached; none is kept.
    if (follow && target.run.state === 'running') {
      const unlisten = call.services.tenancy.oneOffs.listen(target.run.id, (stream, chunk) => (stream === 'stdout' ? stdout : stderr) && out.write(encodeFrames(stream, chunk)));
      await call.services.tenancy.oneOffs.exited(target.run.id);
      unlisten();
    }
    return out.end();
  }
  const view = target.view;
  const app = call.services.app;
  const query = { name: view.name, dir: view.dir, ...(tail !== undefined ? { tail } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}), ...(untilMs !== undefined ? { untilMs } : {}) };
  const first = await containerOutput(app, query);
  for (const entry of first.entries) write(entry);
  if (follow && view.state === 'running') {
    await followContainerOutput(app, { ...query, cursor: first.cursor }, write, call.reply.closed, async () => (await readRunRecord(view.dir)).exit !== undefined);
  }
  out.end();
}

async function attach(call: RouteCall): Promise<void> {
  const target = await resolveTarget(call, call.params.id as string);
  const wantOut = flag(call, 'stdout');
  const wantErr = flag(call, 'stderr');
  const wantIn = flag(call, 'stdin');
  const stdin = target.kind === 'one-off' ? call.services.tenancy.oneOffs.stdinOf(target.run.id) : undefined;
  if (wantIn && stdin === undefined) {
    const why = target.kind === 'one-off' ? 'it was created without OpenStdin (docker run -i)' : "a system container's stdin is its systemd unit's (/dev/null)";
    throw new HttpError(400, `stdin: container ${target.kind === 'one-off' ? target.run.name : target.view.name} has no stdin to attach to: ${why}`);
  }
  const stream = call.reply.hijack(multiplexedType);
  if (wantIn && stdin !== undefined) {
    // Raw bytes from the client; its half-close (or going) is the run's EOF, as docker's StdinOnce.
    stream.onData((chunk) => stdin.write(chunk));
    stream.onEnd(() => stdin.end());
  }
  const send = (kind: 'stdout' | 'stderr', chunk: Buffer | string) => {
    if ((kind === 'stdout' && wantOut) || (kind === 'stderr' && wantErr)) stream.write(encodeFrames(kind, chunk));
  };
  if (target.kind === 'one-off') {
    const unlisten = call.services.tenancy.oneOffs.listen(target.run.id, send);
    await call.services.tenancy.oneOffs.exited(target.run.id);
    unlisten();
    return stream.end();
  }
  const view = target.view;
  const since = Date.now();
  const app = call.services.app;
  const startedBefore = (await readRunRecord(view.dir)).startedAt?.getTime();
  // From now until the container's next exit (it may not have started yet: docker's run attaches first).
  await followContainerOutput(app, { name: view.name, dir: view.dir, sinceMs: since, cursor: undefined }, (entry) => send(entry.stream, `${entry.message}\n`), call.reply.closed, async () => {
    const record = await readRunRecord(view.dir);
    const startedAgain = record.startedAt !== undefined && record.startedAt.getTime() !== startedBefore;
    return record.exit !== undefined && (startedAgain || view.state === 'running');
  });
  stream.end();
}

export function containerStreamRoutes(router: Router<RouteHandler>): void {
  router.add('GET', '/containers/{id}/logs', logs).add('POST', '/containers/{id}/attach', attach);
}
