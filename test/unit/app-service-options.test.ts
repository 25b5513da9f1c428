// The service options as front ends give them in text (the CLI's flags): parsed into the
// runtime's model, each bad value one line naming its option.
import test from 'ava';
import { parseHealthDeadline, parseServiceOptions, SyscontainerError, validateServiceOptions } from '../../app/index.js';

test('only what was given is set (update merges it over the kept options)', (t) => {
  t.deepEqual(parseServiceOptions({}), {});
  t.deepEqual(parseServiceOptions({ noHealthcheck: false, notify: false, autoUpdate: false, requires: [] }), {});
  t.deepEqual(
    parseServiceOptions({ healthCmd: 'test -f /ready', healthInterval: '2s', healthRetries: '4', restart: 'unless-stopped', after: ['db', 'db', 'cache'], wants: ['log'], notify: true, autoUpdate: true }),
    { health: { test: ['CMD-SHELL', 'test -f /ready'], intervalMs: 2000, retries: 4 }, restart: 'unless-stopped', after: ['db', 'cache'], wants: ['log'], notify: true, autoUpdate: true },
  );
});

const refused = test.macro({
  exec(t, text: Parameters<typeof parseServiceOptions>[0], message: RegExp) {
    const error = t.throws(() => parseServiceOptions(text), { instanceOf: SyscontainerError });
    t.regex(error!.message, message);
    t.false(error!.message.includes('\n'), 'one line');
  },
  title: (provided = '') => `refused: ${provided}`,
});
test('a bare number as a duration', refused, { healthTimeout: '30' }, /^--health-timeout "30" is not a duration .*; add a unit: 30s$/);
test('an unknown restart policy', refused, { restart: 'sometimes' }, /^--restart "sometimes" is not one of no, on-failure\[:N\], always, unless-stopped$/);
test('a dependency name with a slash', refused, { requires: ['a/b'] }, /^--requires: /);
test('a health command and none at once', refused, { healthCmd: 'true', noHealthcheck: true }, /cannot be used together/);

test('a container cannot depend on itself; structured options are checked field by field', (t) => {
  t.throws(() => validateServiceOptions({ after: ['web'] }, 'web'), { message: 'container web cannot start after itself' });
  t.throws(() => validateServiceOptions({ restart: 'sometimes' }, 'web'), { message: /^container web: restart: / });
  t.throws(() => validateServiceOptions({ health: { test: ['CMD'] } }, 'web'), { message: /^container web: health\.test/ });
  t.throws(() => validateServiceOptions({ colour: 'blue' }, 'web'), { message: /^container web: / });
});

test('--health-deadline is a duration of at least 1s', (t) => {
  t.is(parseHealthDeadline('90s'), 90_000);
  t.throws(() => parseHealthDeadline('500ms'), { message: '--health-deadline "500ms" is shorter than 1s' });
  t.throws(() => parseHealthDeadline('soon'), { message: /^--health-deadline "soon" is not a duration/ });
});
