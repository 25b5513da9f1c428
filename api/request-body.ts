// Request bodies are read whole before a route runs, up to a limit (1 MiB: every body this API
// takes is a small JSON document), and a bigger one is a 413 before it is read. Upgrade
// requests (attach, exec start) carry their body ahead of the raw stream: it is cut off the
// socket by Content-Length, and what follows is the client's stdin.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import * as z from 'zod';
import { HttpError } from './http-error.js';

export const maxBodyBytes = 1024 * 1024;

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body is larger than ${limit} bytes`);
}

function declaredLength(req: IncomingMessage, limit: number): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d{1,15}$/.test(header)) throw new HttpError(400, 'Content-Length is not a number');
  const length = Number(header);
  if (length > limit) throw tooLarge(limit);
  return length;
}

/** The body of a plain request. */
export async function readRequestBody(req: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  declaredLength(req, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body of an upgrade request and the bytes after it (the start of the raw stream). */
export async function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer, limit = maxBodyBytes): Promise<{ body: Buffer; rest: Buffer }> {
  const length = declaredLength(req, limit) ?? 0;
  let buffered = head;
  if (buffered.length < length) {
    buffered = await new Promise<Buffer>((resolve, reject) => {
      const parts = [buffered];
      let have = buffered.length;
      const onData = (chunk: Buffer) => {
        parts.push(chunk);
        have += chunk.length;
        if (have >= length) done();
      };
      const onEnd = () => {
        cleanup();
        reject(new HttpError(400, 'request body ended early'));
      };
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
      };
      const done = () => {
        cleanup();
        socket.pause();
        resolve(Buffer.concat(parts));
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
      socket.resume();
    });
  }
  return { body: buffered.subarray(0, length), rest: buffered.subarray(length) };
}

function describePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** One line naming the first thing wrong with a body, as a user fixing it wants to read it. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid body';
  const where = describePath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (where === '' ? k : `${where}.${k}`));
    return `unsupported field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}

/** Parses a JSON body (empty means `{}`) and validates it; 400 naming what is wrong. */
export function parseJsonBody<S extends z.ZodType>(body: Buffer, schema: S): z.infer<S> {
  let value: unknown = {};
  const text = body.toString('utf8').trim();
  if (text !== '') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, describeIssues(result.error));
  return result.data;
}
