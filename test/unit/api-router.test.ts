// Routing of the REST service: every route with and without the /vN.NN prefix, image names
// with slashes, parameters decoded once, and the answers for paths and methods that do not exist.
import test from 'ava';
import { Router } from '../../api/router.js';

const router = new Router<string>()
  .add('GET', '/containers/json', 'list')
  .add('GET', '/containers/{id}/json', 'inspect')
  .add('POST', '/containers/{id}/start', 'start')
  .add('DELETE', '/containers/{id}', 'delete')
  .add('GET', '/images/{name*}/json', 'image');

const matches = test.macro({
  exec(t, method: string, path: string, handler: string, params: Record<string, string>, version?: string) {
    const found = router.match(method, path);
    if ('error' in found) return t.fail(`no match: ${found.error}`);
    t.is(found.handler, handler);
    t.deepEqual(found.params, params);
    t.is(found.version, version);
  },
  title: (given, method: string, path: string) => given ?? `${method} ${path}`,
});

test(matches, 'GET', '/containers/json', 'list', {});
test(matches, 'GET', '/v1.41/containers/json', 'list', {}, '1.41');
test(matches, 'GET', '/v1.24/containers/abc/json', 'inspect', { id: 'abc' }, '1.24');
test(matches, 'HEAD', '/containers/abc/json', 'inspect', { id: 'abc' });
test(matches, 'POST', '/v1.50/containers/web.1/start', 'start', { id: 'web.1' }, '1.50');
test(matches, 'GET', '/images/127.0.0.1:5000/library/busybox:1.36/json', 'image', { name: '127.0.0.1:5000/library/busybox:1.36' });
test(matches, 'GET', '/v1.41/images/busybox%3Alatest/json', 'image', { name: 'busybox:latest' }, '1.41');
test('encoded slashes decode into the parameter, once', matches, 'DELETE', '/containers/..%2F..%2Fetc', 'delete', { id: '../../etc' });

test('a path without a route is not-found, a known path with another method lists the allowed ones', (t) => {
  t.deepEqual(router.match('GET', '/containers/abc/json/extra'), { error: 'not-found' });
  t.deepEqual(router.match('GET', '/v1.41'), { error: 'not-found' });
  t.deepEqual(router.match('GET', '/vX/containers/json'), { error: 'not-found' });
  t.deepEqual(router.match('PUT', '/containers/abc/start'), { error: 'method', allowed: ['POST'] });
});

test('a parameter that does not decode is bad-path', (t) => {
  t.deepEqual(router.match('DELETE', '/containers/%E0%A4%A'), { error: 'bad-path' });
});
