// The `filters` query parameter of list and events routes: JSON, either {"key": ["v", …]}
// (old clients) or {"key": {"v": true}} (docker CLI since 1.24). 400 for anything else.
import * as z from 'zod';
import { HttpError } from './http-error.js';
import { builtOnFirstUse } from '../app/index.js';

const filterSchema = builtOnFirstUse(() => z.record(z.string().max(64), z.union([z.array(z.string().max(512)).max(64), z.record(z.string().max(512), z.boolean())])));

export function parseFilters(text: string | null, allowed: readonly string[]): Record<string, string[]> {
  if (text === null || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'filters: not valid JSON');
  }
  const result = filterSchema.safeParse(parsed);
  if (!result.success) throw new HttpError(400, 'filters: expected {"name": ["value", …]}');
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(result.data)) {
    if (!allowed.includes(key)) throw new HttpError(400, `filters: unsupported filter ${JSON.stringify(key)} (supported: ${allowed.join(', ')})`);
    out[key] = Array.isArray(value) ? value : Object.entries(value).filter(([, on]) => on).map(([v]) => v);
  }
  return out;
}
