// Request bodies: JSON validated by a schema, one line naming the first thing wrong; an
// unsupported field is named with its path.
import test from 'ava';
import * as z from 'zod';
import { HttpError } from '../../api/http-error.js';
import { parseJsonBody } from '../../api/request-body.js';

const schema = z.strictObject({ Image: z.string().min(1), HostConfig: z.strictObject({ Privileged: z.boolean().optional() }).optional() });

const refused = test.macro({
  exec(t, body: string, status: number, message: RegExp) {
    const error = t.throws(() => parseJsonBody(Buffer.from(body), schema));
    t.true(error instanceof HttpError);
    t.is((error as HttpError).status, status);
    t.regex(error!.message, message);
  },
  title: (given, body: string) => given ?? `refused: ${body.slice(0, 60)}`,
});

test(refused, '{"Image": "a", "Bogus": 1}', 400, /^unsupported field Bogus$/);
test(refused, '{"Image": "a", "HostConfig": {"Privileged": true, "PidMode": "host"}}', 400, /^unsupported field HostConfig\.PidMode$/);
test(refused, '{"Image": 5}', 400, /^Image: /);
test(refused, '{"Image": "a",', 400, /^request body is not valid JSON/);
test(refused, '[]', 400, /expected object/);

test('a valid body parses; an empty one is {}', (t) => {
  t.deepEqual(parseJsonBody(Buffer.from('{"Image":"x"}'), schema), { Image: 'x' });
  t.deepEqual(parseJsonBody(Buffer.from(''), z.object({})), {});
});
