import test from 'ava';
import { formatDuration, parseDuration, systemdTimeSpan } from '../../runtime/health/duration.js';
import {
  defaultHealthDeadlineMs,
  describeHealthCheck,
  healthOptionsFromFlags,
  healthOptionsFromImage,
  resolveHealthCheck,
  validateHealthOptions,
  type HealthFlags,
} from '../../runtime/health/health-check.js';
import { checkPlan, healthCommand, parseStoredHealthCheck } from '../../runtime/health/check-command.js';
import { SyscontainerError } from '../../common/errors.js';

const duration = test.macro({
  exec(t, text: string, ms: number) {
    t.is(parseDuration(text, '--health-interval'), ms);
  },
  title: (_provided, text: string, ms: number) => `duration ${text} is ${ms} ms`,
});
test(duration, '30s', 30_000);
test(duration, '2m', 120_000);
test(duration, '1m30s', 90_000);
test(duration, '500ms', 500);
test(duration, '1.5s', 1500);
test(duration, '1h', 3_600_000);
test(duration, ' 10s ', 10_000);

const badDuration = test.macro({
  exec(t, text: string, message: RegExp) {
    const error = t.throws(() => parseDuration(text, '--health-timeout'), { instanceOf: SyscontainerError });
    t.is((error as SyscontainerError).code, 'EINVAL');
    t.regex(error!.message, message);
    t.false(error!.message.includes('\n'), 'one line');
  },
  title: (_provided, text: string) => `duration ${JSON.stringify(text)} is refused`,
});
test(badDuration, '30', /--health-timeout "30" is not a duration .*add a unit: 30s/);
test(badDuration, '', /--health-timeout "" is not a duration/);
test(badDuration, '-5s', /not a duration/);
test(badDuration, '5 s', /not a duration/);
test(badDuration, '5d', /not a duration/);
test(badDuration, 's', /not a duration/);
test(badDuration, '25h', /longer than 24h/);

test('durations format back to what parses', (t) => {
  for (const ms of [0, 500, 1000, 1500, 30_000, 90_000, 3_600_000, 3_661_000]) t.is(parseDuration(formatDuration(ms), 'x'), ms);
  t.is(formatDuration(90_000), '1m30s');
  t.is(systemdTimeSpan(1500), '1500ms');
  t.is(systemdTimeSpan(30_000), '30s');
});

const badFlags = test.macro({
  exec(t, flags: HealthFlags, message: RegExp) {
    const error = t.throws(() => healthOptionsFromFlags(flags), { instanceOf: SyscontainerError });
    t.regex(error!.message, message);
  },
  title: (provided = '') => `flags refused: ${provided}`,
});
test('interval under a second', badFlags, { interval: '500ms' }, /--health-interval "500ms" is shorter than 1s/);
test('interval zero', badFlags, { interval: '0s' }, /--health-interval "0s" is shorter than 1s/);
test('timeout without unit', badFlags, { timeout: '10' }, /--health-timeout "10" is not a duration/);
test('start period garbage', badFlags, { startPeriod: 'soon' }, /--health-start-period "soon" is not a duration/);
test('retries zero', badFlags, { retries: '0' }, /--health-retries "0" is not a count from 1 to 100/);
test('retries not a number', badFlags, { retries: 'three' }, /--health-retries "three"/);
test('retries negative', badFlags, { retries: '-1' }, /--health-retries "-1"/);
test('retries too many', badFlags, { retries: '1000' }, /--health-retries "1000"/);
test('unknown action', badFlags, { onFailure: 'reboot' }, /--health-on-failure "reboot" is not one of none, restart, stop, kill/);
test('empty command', badFlags, { cmd: '  ' }, /--health-cmd is empty/);
test('both cmd and none', badFlags, { cmd: 'true', noHealthcheck: true }, /cannot be used together/);
test('a JSON array that does not parse', badFlags, { cmd: '["/bin/true"' }, /starts with "\[" but is not a JSON array of strings/);
test('an empty JSON array', badFlags, { cmd: '[]' }, /a JSON array needs at least one word/);
test('a JSON array of numbers', badFlags, { cmd: '[1, 2]' }, /a JSON array needs at least one word, each a non-empty string/);

test('--health-cmd as a JSON array is the command itself (CMD, no shell), as podman reads it', (t) => {
  t.deepEqual(healthOptionsFromFlags({ cmd: '["/bin/busybox", "true"]' }), { test: ['CMD', '/bin/busybox', 'true'] });
  t.deepEqual(healthOptionsFromFlags({ cmd: 'test -f /ready' }), { test: ['CMD-SHELL', 'test -f /ready'] });
});

test('flags become options: --health-cmd is a shell line, durations in ms', (t) => {
  t.deepEqual(healthOptionsFromFlags({ cmd: 'test -f /ready', interval: '1s', timeout: '2s', retries: '2', startPeriod: '1m', onFailure: 'kill' }), {
    test: ['CMD-SHELL', 'test -f /ready'],
    intervalMs: 1000,
    timeoutMs: 2000,
    retries: 2,
    startPeriodMs: 60_000,
    onFailure: 'kill',
  });
  t.deepEqual(healthOptionsFromFlags({ noHealthcheck: true }), { test: ['NONE'] });
  t.is(healthOptionsFromFlags({}), undefined);
});

const s = 1_000_000_000;
test("an image's Healthcheck in nanoseconds", (t) => {
  t.deepEqual(healthOptionsFromImage({ Test: ['CMD', 'curl', '-f', 'http://localhost/'], Interval: 10 * s, Timeout: 3 * s, StartPeriod: 5 * s, Retries: 4 }, 'web'), {
    test: ['CMD', 'curl', '-f', 'http://localhost/'],
    intervalMs: 10_000,
    timeoutMs: 3000,
    startPeriodMs: 5000,
    retries: 4,
  });
  // 0 means the default, as in docker; an empty Test inherits (nothing to inherit here).
  t.deepEqual(healthOptionsFromImage({ Test: ['CMD-SHELL', 'true'], Interval: 0, Retries: 0 }, 'web'), { test: ['CMD-SHELL', 'true'] });
  t.is(healthOptionsFromImage({ Test: [] }, 'web'), undefined);
  t.is(healthOptionsFromImage(undefined, 'web'), undefined);
  t.deepEqual(healthOptionsFromImage({ Test: ['NONE'] }, 'web'), { test: ['NONE'] });
  // Under the minimum interval: raised to it, not refused.
  t.is(healthOptionsFromImage({ Test: ['CMD', 'true'], Interval: s / 2 }, 'web')?.intervalMs, 1000);
});

const badImage = test.macro({
  exec(t, healthcheck: unknown, message: RegExp) {
    const error = t.throws(() => healthOptionsFromImage(healthcheck, '127.0.0.1:5000/web:1'), { instanceOf: SyscontainerError });
    t.is((error as SyscontainerError).code, 'EMANIFEST');
    t.regex(error!.message, /^image 127\.0\.0\.1:5000\/web:1: config Healthcheck/);
    t.regex(error!.message, message);
  },
  title: (provided = '') => `image Healthcheck refused: ${provided}`,
});
test('unknown Test kind', badImage, { Test: ['RUN', 'x'] }, /is not \["CMD", \.\.\.\]/);
test('CMD without a command', badImage, { Test: ['CMD'] }, /is not \["CMD"/);
test('CMD-SHELL with two words', badImage, { Test: ['CMD-SHELL', 'a', 'b'] }, /is not/);
test('negative interval', badImage, { Test: ['CMD', 'true'], Interval: -1 }, /Interval/);
test('Test not a list', badImage, { Test: 'curl' }, /Test/);
test('not an object', badImage, 'curl', /Healthcheck/);

test('the user wins over the image, field by field, with docker defaults', (t) => {
  const image = healthOptionsFromImage({ Test: ['CMD', '/check'], Interval: 10 * s, Retries: 5 }, 'web');
  t.deepEqual(resolveHealthCheck(image, { intervalMs: 2000 }, true), {
    test: ['CMD', '/check'],
    intervalMs: 2000,
    timeoutMs: 30_000,
    retries: 5,
    startPeriodMs: 0,
    onFailure: 'restart',
  });
  t.is(resolveHealthCheck(image, { test: ['NONE'] }, true), undefined, '--no-healthcheck removes the image check');
  t.is(resolveHealthCheck(undefined, { intervalMs: 2000 }, true), undefined, 'timing alone is no check');
  t.is(resolveHealthCheck(image, undefined, false)?.onFailure, 'none', 'no restart policy: no action by default');
  t.is(resolveHealthCheck(image, { onFailure: 'stop' }, false)?.onFailure, 'stop');
});

test('the check runs as its argv, or through /bin/sh -c', (t) => {
  t.deepEqual(healthCommand({ test: ['CMD', 'etcdctl', 'endpoint', 'health'] }), ['etcdctl', 'endpoint', 'health']);
  t.deepEqual(healthCommand({ test: ['CMD-SHELL', 'test -f /ready && echo ok'] }), ['/bin/sh', '-c', 'test -f /ready && echo ok']);
});

test('options from a program are validated with the field named', (t) => {
  t.deepEqual(validateHealthOptions({ test: ['CMD', 'true'], intervalMs: 5000 }), { test: ['CMD', 'true'], intervalMs: 5000 });
  t.throws(() => validateHealthOptions({ intervalMs: 10 }, 'probe'), { message: /^probe: intervalMs: / });
  t.throws(() => validateHealthOptions({ retries: 1.5 }), { message: /retries/ });
  t.throws(() => validateHealthOptions({ cmd: 'x' }), { message: /cmd|Unrecognized/i });
});

test('the default deadline: start period + retries × interval (+ one timeout), at most 5 minutes', (t) => {
  t.is(defaultHealthDeadlineMs({ startPeriodMs: 0, retries: 3, intervalMs: 1000, timeoutMs: 1000 }), 4000);
  t.is(defaultHealthDeadlineMs({ startPeriodMs: 60_000, retries: 3, intervalMs: 30_000, timeoutMs: 30_000 }), 180_000);
  t.is(defaultHealthDeadlineMs({ startPeriodMs: 0, retries: 10, intervalMs: 60_000, timeoutMs: 30_000 }), 300_000);
});

test('a stored check is read back by hand, and a damaged one is not', (t) => {
  const check = resolveHealthCheck({ test: ['CMD', 'true'] }, undefined, true);
  t.deepEqual(parseStoredHealthCheck(JSON.parse(JSON.stringify(check))), check);
  t.is(parseStoredHealthCheck({ ...check, retries: 0 }), undefined);
  t.is(parseStoredHealthCheck({ ...check, test: ['CMD-SHELL', 'a', 'b'] }), undefined);
  t.is(parseStoredHealthCheck({ ...check, onFailure: 'reboot' }), undefined);
  t.is(parseStoredHealthCheck(null), undefined);
});

test('TCP and HTTP probes (apply\'s tcpSocket and httpGet) are options, validated, kept and read back; images cannot ask for them', (t) => {
  t.deepEqual(validateHealthOptions({ test: ['TCP', '127.0.0.1:2379'] }), { test: ['TCP', '127.0.0.1:2379'] });
  t.deepEqual(validateHealthOptions({ test: ['TCP', '[::1]:80'] }), { test: ['TCP', '[::1]:80'] });
  t.deepEqual(validateHealthOptions({ test: ['HTTP', 'http://127.0.0.1:8080/healthz'] }), { test: ['HTTP', 'http://127.0.0.1:8080/healthz'] });
  t.throws(() => validateHealthOptions({ test: ['TCP', '127.0.0.1'] }), { message: /not HOST:PORT/ });
  t.throws(() => validateHealthOptions({ test: ['TCP', 'localhost:70000'] }), { message: /port outside 1-65535/ });
  t.throws(() => validateHealthOptions({ test: ['HTTP', 'ftp://x/'] }), { message: /not an http/ });
  t.throws(() => validateHealthOptions({ test: ['HTTP', 'http://user:pw@x/'] }), { message: /without credentials/ });
  t.throws(() => healthOptionsFromImage({ Test: ['TCP', '127.0.0.1:80'] }, 'web'), { message: /image web: config Healthcheck.Test/ });
  const check = resolveHealthCheck(undefined, { test: ['HTTP', 'http://127.0.0.1:8080/healthz'] }, true);
  t.deepEqual(parseStoredHealthCheck(JSON.parse(JSON.stringify(check))), check);
  t.deepEqual(checkPlan(check!), { via: 'probe', protocol: 'HTTP', target: 'http://127.0.0.1:8080/healthz' });
  t.deepEqual(checkPlan({ test: ['CMD', 'true'] }), { via: 'exec', argv: ['true'] });
  t.regex(describeHealthCheck(check!), /^HTTP http:\/\/127\.0\.0\.1:8080\/healthz: every 30s/);
});
