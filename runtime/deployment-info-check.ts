// Reading a deployment's info record without building its zod schema: every `status`,
// `containers list` and health check reads one record or all of them, and building the
// record's schema and its first parse cost ~12 ms of a ~60 ms command (zod binds every schema's
// methods and compiles a parser per object). The record is ours (deploymentInfoSchema checks it
// when written), but a record is still checked when read, field by field as the schema does:
// a bad one must read as debris, exactly as before. The nested parts a user's options shape
// (containerSpec, service, healthcheck) go through their own schemas, and only when present.
// test/unit/deployment-info-check.test.ts holds this check and the schema to the same verdict.
import { containerSpecSchema } from './container-spec.js';
import { healthCheckSchema } from './health/health-check.js';
import { serviceOptionsSchema } from './service/service-options.js';

type Check = (value: unknown) => boolean;

const isString: Check = (value) => typeof value === 'string';
const isBoolean: Check = (value) => typeof value === 'boolean';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const arrayOf = (item: Check): Check => (value) => Array.isArray(value) && value.every(item);
const recordOf = (item: Check): Check => (value) => isObject(value) && Object.values(value).every(item);
const oneOf = (...allowed: unknown[]): Check => (value) => allowed.includes(value);
const isHostFile: Check = (value) => isObject(value) && isString(value.path) && isString(value.digest) && Number.isSafeInteger(value.mode);

/** Where a field's value is checked: by hand (plain fields), or by the schema of its own. */
type FieldCheck = { required: boolean; check: Check } | { schema: { safeParse(value: unknown): { success: true; data: unknown } | { success: false } } };
const needs = (check: Check): FieldCheck => ({ required: true, check });
const may = (check: Check): FieldCheck => ({ required: false, check });

/** Every field of deploymentInfoSchema, in its order (the order zod gives the parsed record). */
const fields: [string, FieldCheck][] = [
  ['version', needs(oneOf(1))],
  ['name', needs(isString)],
  ['image', needs(isString)],
  ['imageId', needs(isString)],
  ['manifestDigest', needs(isString)],
  ['set', needs(recordOf(isString))],
  ['values', needs(recordOf(isString))],
  ['created', needs(isString)],
  ['runtime', needs(isString)],
  ['revision', needs((value) => Number.isSafeInteger(value) && (value as number) > 0)],
  ['privileged', needs(isBoolean)],
  ['privileges', needs(arrayOf(isString))],
  ['source', needs(oneOf('exports', 'image-config'))],
  ['command', needs(arrayOf(isString))],
  ['stateDirectory', needs(isString)],
  ['hasTmpfiles', needs(isBoolean)],
  ['exposedPorts', needs(arrayOf(isString))],
  ['hostFiles', may(arrayOf(isHostFile))],
  ['noContainerService', may(isBoolean)],
  ['externalRootfs', may(isString)],
  // The parts users' options shape: their schemas decide, and give the values parsed.
  ['containerSpec', { schema: containerSpecSchema }],
  ['owner', may(isObject)],
  ['labels', may(recordOf(isString))],
  ['origin', may(oneOf('atomic'))],
  ['service', { schema: serviceOptionsSchema }],
  ['healthcheck', { schema: healthCheckSchema }],
  ['notify', may(isBoolean)],
];

/**
 * `raw` (a parsed info file) as deploymentInfoSchema would give it (a DeploymentInfo: the
 * schema's module, which reads with this one, names the type) when the schema would accept it,
 * with what the schema would give: only the record's own keys (others dropped), host files
 * with their three fields. Undefined when the schema would reject it.
 */
export function checkDeploymentInfo(raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const info: Record<string, unknown> = {};
  for (const [key, field] of fields) {
    const value = raw[key];
    if (value === undefined && !('required' in field && field.required)) continue;
    if ('schema' in field) {
      const parsed = field.schema.safeParse(value);
      if (!parsed.success) return undefined;
      info[key] = parsed.data;
      continue;
    }
    if (!field.check(value)) return undefined;
    // z.object drops the keys it does not know, in the host files' entries too.
    info[key] = key === 'hostFiles' ? (value as { path: string; digest: string; mode: number }[]).map(({ path, digest, mode }) => ({ path, digest, mode })) : value;
  }
  return info;
}
