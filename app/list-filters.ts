// `--filter KEY=VALUE` of the listings, as atomic's: every filter must match; a value matches
// when the row's field contains it (atomic matched repository names so: `repo=foo` lists
// every image with foo in its name), or is it for the keys that name one thing (apply's
// `config=ID`). An unknown key is a usage error naming the keys there are.
import { SyscontainerError } from '../common/errors.js';

export type FilterFields = Readonly<Record<string, string>>;

/** A predicate over a row's fields for the filters `given` (KEY=VALUE each); keys must be among `keys`; `exact` ones match whole. Throws EUSAGE. */
export function listFilter(given: readonly string[], keys: readonly string[], exact: readonly string[] = []): (fields: FilterFields) => boolean {
  const filters = given.map((arg) => {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? '' : arg.slice(0, eq);
    if (!keys.includes(key)) throw new SyscontainerError('EUSAGE', `--filter ${JSON.stringify(arg)}: expected KEY=VALUE with KEY one of ${keys.join(', ')}`);
    return { key, value: arg.slice(eq + 1) };
  });
  return (fields) => filters.every(({ key, value }) => (exact.includes(key) ? fields[key] === value : (fields[key] ?? '').includes(value)));
}
