import test from 'ava';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from '../../store/oci/platform.js';

test('hostPlatform is linux with an OCI architecture name', (t) => {
  const p = hostPlatform();
  t.is(p.os, 'linux');
  t.true(['amd64', 'arm64', 'arm', 'ppc64le', 's390x', '386', 'riscv64', 'loong64'].includes(p.architecture));
  if (process.arch === 'x64') t.is(p.architecture, 'amd64');
});

test('parsePlatform accepts os/arch[/variant] and folds aliases', (t) => {
  t.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  t.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  t.deepEqual(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  t.deepEqual(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  for (const bad of ['', 'linux/', 'a/b/c/d', 'linux/am d64']) {
    t.is(t.throws(() => parsePlatform(bad))?.message.startsWith('invalid platform'), true, bad);
  }
  t.is(formatPlatform(parsePlatform('linux/arm/v6')), 'linux/arm/v6');
});

test('platformMatches', (t) => {
  const p = parsePlatform;
  t.true(platformMatches(p('linux/amd64'), { os: 'linux', architecture: 'amd64' }));
  t.false(platformMatches(p('linux/amd64'), { os: 'linux', architecture: 'arm64' }));
  t.false(platformMatches(p('linux/amd64'), { os: 'windows', architecture: 'amd64' }));
  t.true(platformMatches(p('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' }));
  t.true(platformMatches(p('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' }));
  t.true(platformMatches(p('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' }));
  t.false(platformMatches(p('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' }));
  t.true(platformMatches(p('linux/arm/v7'), { os: 'linux', architecture: 'arm' }), 'arm without variant is v7');
});
