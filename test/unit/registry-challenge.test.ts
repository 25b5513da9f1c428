import test from 'ava';
import { parseChallenges, preferredChallenge } from '../../store/registry/auth-challenge.js';
import { parseRetryAfter } from '../../store/registry/retry.js';
import { parseErrorBody } from '../../store/registry/errors-from-response.js';

test('parses a Bearer challenge with quoted parameters', (t) => {
  t.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
});

test('parses several challenges, escapes and unquoted values', (t) => {
  const all = parseChallenges('Basic realm="a \\"quoted\\" realm", Bearer realm=https://x/token, service=svc,  Negotiate abc==');
  t.deepEqual(all, [
    { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
    { scheme: 'bearer', params: { realm: 'https://x/token', service: 'svc' } },
    { scheme: 'negotiate', params: {} },
  ]);
  t.is(preferredChallenge('Basic realm="r", Bearer realm="https://t"')?.scheme, 'bearer');
  t.is(preferredChallenge(undefined), undefined);
  t.deepEqual(parseChallenges('garbage "'), [{ scheme: 'garbage', params: {} }]);
  t.deepEqual(parseChallenges(''), []);
});

test('Retry-After as seconds or HTTP date', (t) => {
  t.is(parseRetryAfter('3'), 3000);
  t.is(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000), 5000);
  t.is(parseRetryAfter('soon'), undefined);
  t.is(parseRetryAfter(undefined), undefined);
});

test('distribution error bodies', (t) => {
  t.deepEqual(parseErrorBody('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},{"code":"x\\ny"}]}'), { codes: ['MANIFEST_UNKNOWN'], message: 'manifest unknown' });
  t.deepEqual(parseErrorBody('<html>'), { codes: [] });
});
