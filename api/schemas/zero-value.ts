// Docker clients send every field of a create or exec body, most at their zero value
// ("", 0, false, null, [], {} or objects of those). A field this service does not implement
// is accepted at that value only: set to anything else it is a 400 naming the field.
import * as z from 'zod';
import { builtOnFirstUse } from '../../app/index.js';

export function isZeroValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.every(isZeroValue);
  if (typeof value === 'object') return Object.values(value as Record<string, unknown>).every(isZeroValue);
  return false;
}

export const zeroValue = builtOnFirstUse(() => z.unknown().refine(isZeroValue, 'not supported by syscontainer (only its default value is accepted)'));
