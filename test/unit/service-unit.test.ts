// Restart policy, ordering, notify and the health timer laid over units: ours and an image's own.
import test from 'ava';
import { addToDirective, directiveValues, setDirective } from '../../runtime/service/unit-directives.js';
import { applyRestartPolicy, parseRestartOption, parseRestartPolicy, unitRestarts } from '../../runtime/service/restart-policy.js';
import { amendUnit } from '../../runtime/service/amend-unit.js';
import { mergeServiceOptions, validateServiceOptions } from '../../runtime/service/service-options.js';
import { SyscontainerError } from '../../common/errors.js';

// An image's own service.template as Atomic images write them: comments, continuation lines, no Restart=.
const imageUnit = `# the image's unit
[Unit]
Description=etcd

[Service]
ExecStart=/usr/sbin/runc run \\
  etcd
ExecStop=/usr/sbin/runc kill etcd
Restart=always

[Install]
WantedBy=multi-user.target
`;

test('setDirective replaces in place and keeps everything else', (t) => {
  const out = setDirective(imageUnit, 'Service', 'Restart', ['no']);
  t.is(out, imageUnit.replace('Restart=always', 'Restart=no'));
  t.deepEqual(directiveValues(out, 'Service', 'ExecStart'), ['/usr/sbin/runc run    etcd']);
});

test('setDirective adds a missing key at the end of its section, a missing section before [Install]', (t) => {
  const added = setDirective(imageUnit, 'Service', 'Type', ['notify']);
  t.regex(added, /Restart=always\nType=notify\n\n\[Install\]/);
  const noUnit = setDirective('[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=x\n', 'Timer', 'OnActiveSec', ['1s']);
  t.is(noUnit, '[Service]\nExecStart=/bin/true\n\n[Timer]\nOnActiveSec=1s\n\n[Install]\nWantedBy=x\n');
  t.is(setDirective('[Service]\nExecStart=/bin/true\n', 'Unit', 'After', ['a.service']), '[Service]\nExecStart=/bin/true\n\n[Unit]\nAfter=a.service\n');
});

test('a directive in a comment or another section is not touched', (t) => {
  const unit = '[Unit]\n#Restart=always\nDescription=x\n[Service]\nRestart=on-failure\n';
  t.is(setDirective(unit, 'Service', 'Restart', ['always']), '[Unit]\n#Restart=always\nDescription=x\n[Service]\nRestart=always\n');
});

test('addToDirective adds list values once; an empty assignment resets the list as systemd reads it', (t) => {
  const once = addToDirective(imageUnit, 'Unit', 'After', ['a.service', 'b.service']);
  t.is(addToDirective(once, 'Unit', 'After', ['a.service']), once);
  t.deepEqual(directiveValues(once, 'Unit', 'After'), ['a.service', 'b.service']);
  t.deepEqual(directiveValues('[Unit]\nAfter=x\nAfter=\nAfter=y\n', 'Unit', 'After'), ['y']);
});

const policy = test.macro({
  exec(t, name: string, restart: string) {
    const unit = applyRestartPolicy(imageUnit, parseRestartPolicy(name));
    t.deepEqual(directiveValues(unit, 'Service', 'Restart'), [restart]);
    t.deepEqual(directiveValues(unit, 'Unit', 'StartLimitIntervalSec'), ['30s']);
    t.deepEqual(directiveValues(unit, 'Unit', 'StartLimitBurst'), ['5']);
    t.is(unitRestarts(unit), restart !== 'no');
  },
  title: (_p, name: string, restart: string) => `--restart ${name} renders Restart=${restart} with a start limit`,
});
test(policy, 'no', 'no');
test(policy, 'on-failure', 'on-failure');
test(policy, 'always', 'always');
test(policy, 'unless-stopped', 'always');

test('an unknown restart policy is a one-line error', (t) => {
  const error = t.throws(() => parseRestartPolicy('sometimes'), { instanceOf: SyscontainerError });
  t.is(error!.message, '--restart "sometimes" is not one of no, on-failure[:N], always, unless-stopped');
});

test('on-failure:N (docker\'s MaximumRetryCount) allows the first start and N restarts in all, however far apart', (t) => {
  t.deepEqual(parseRestartOption('on-failure:3'), { restart: 'on-failure', retries: 3 });
  t.deepEqual(parseRestartOption('on-failure:0'), { restart: 'on-failure' }, '0: no count, as docker reads it');
  t.deepEqual(parseRestartOption('always'), { restart: 'always' });
  t.throws(() => parseRestartOption('on-failure:2000'), { message: /at most 1000 retries/ });
  t.throws(() => parseRestartOption('always:3'), { message: /is not one of/ });
  const unit = amendUnit(imageUnit, { restart: 'on-failure', restartRetries: 3 });
  t.deepEqual(directiveValues(unit, 'Service', 'Restart'), ['on-failure']);
  t.deepEqual(directiveValues(unit, 'Unit', 'StartLimitBurst'), ['4']);
  t.deepEqual(directiveValues(unit, 'Unit', 'StartLimitIntervalSec'), ['infinity']);
});

test('a retry count needs on-failure; a policy given again by update drops the kept count', (t) => {
  t.deepEqual(validateServiceOptions({ restart: 'on-failure', restartRetries: 2 }, 'web'), { restart: 'on-failure', restartRetries: 2 });
  t.throws(() => validateServiceOptions({ restart: 'always', restartRetries: 2 }, 'web'), { message: 'container web: a maximum retry count needs the restart policy on-failure, not always' });
  t.throws(() => validateServiceOptions({ restart: 'on-failure', restartRetries: 0 }, 'web'), { message: /restartRetries/ });
  t.deepEqual(mergeServiceOptions({ restart: 'on-failure', restartRetries: 2 }, { restart: 'always' }), { restart: 'always' });
  t.deepEqual(mergeServiceOptions({ restart: 'on-failure', restartRetries: 2 }, { notify: true }), { restart: 'on-failure', restartRetries: 2, notify: true });
});

test("without a policy the image's own Restart= stays", (t) => {
  const unit = amendUnit(imageUnit, { dependencies: { requires: [], wants: [], after: [] } });
  t.is(unit, imageUnit);
  t.true(unitRestarts(unit));
  t.false(unitRestarts('[Service]\nExecStart=/bin/true\n'), "systemd's default is Restart=no");
});

test('ordering: Requires=/Wants= with After=, After= alone; notify; the health timer wanted', (t) => {
  const unit = amendUnit(imageUnit, {
    dependencies: { requires: ['etcd'], wants: ['dns'], after: ['network-agent', 'etcd'] },
    notify: true,
    healthTimer: 'web-healthcheck.timer',
  });
  t.deepEqual(directiveValues(unit, 'Unit', 'Requires'), ['etcd.service']);
  t.deepEqual(directiveValues(unit, 'Unit', 'Wants'), ['dns.service', 'web-healthcheck.timer']);
  t.deepEqual(directiveValues(unit, 'Unit', 'After'), ['etcd.service', 'dns.service', 'network-agent.service']);
  t.deepEqual(directiveValues(unit, 'Service', 'Type'), ['notify']);
  t.deepEqual(directiveValues(unit, 'Service', 'NotifyAccess'), ['all']);
  t.deepEqual(directiveValues(unit, 'Service', 'Restart'), ['always'], 'untouched');
});

test('service options: names validated, no dependency on itself, one-line errors', (t) => {
  t.deepEqual(validateServiceOptions({ requires: ['etcd'], restart: 'always' }, 'web'), { requires: ['etcd'], restart: 'always' });
  t.throws(() => validateServiceOptions({ requires: ['a/b'] }, 'web'), { message: /^container web: requires\.0: container name "a\/b" has characters outside/ });
  t.throws(() => validateServiceOptions({ after: ['web'] }, 'web'), { message: 'container web cannot start after itself' });
  t.throws(() => validateServiceOptions({ wants: ['web'] }, 'web'), { message: 'container web cannot want itself' });
  t.throws(() => validateServiceOptions({ restart: 'sometimes' }, 'web'), { message: /^container web: restart: / });
  t.throws(() => validateServiceOptions({ health: { intervalMs: 5 } }, 'web'), { message: /^container web: health\.intervalMs: / });
  t.throws(() => validateServiceOptions({ bogus: true }, 'web'), { message: /^container web: / });
});

test('update merges given options over kept ones, health field by field', (t) => {
  const kept = { health: { test: ['CMD', '/check'] as ['CMD', string], intervalMs: 10_000 }, restart: 'always' as const, requires: ['etcd'] };
  t.deepEqual(mergeServiceOptions(kept, { health: { retries: 2 }, requires: [] }), {
    health: { test: ['CMD', '/check'], intervalMs: 10_000, retries: 2 },
    restart: 'always',
    requires: [],
  });
  t.deepEqual(mergeServiceOptions(kept, {}), kept);
  t.deepEqual(mergeServiceOptions(undefined, { notify: true }), { notify: true });
});
