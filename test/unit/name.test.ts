import test from 'ava';
import { validateContainerName } from '../../runtime/container-name.js';

for (const good of ['etcd', 'a', 'my_app-2.0', 'A'.repeat(64), 'x-', '_']) {
  test(`accepts ${JSON.stringify(good.length > 20 ? `${good.slice(0, 8)}…(${good.length})` : good)}`, (t) => {
    t.notThrows(() => validateContainerName(good));
  });
}

const bad: Array<[string, RegExp]> = [
  ['', /is empty/],
  ['.hidden', /starts with "\."/],
  ['-x', /starts with "-"/],
  ['--help', /starts with "-"/],
  ['..', /starts with "\."/],
  ['a/b', /characters outside/],
  ['a b', /characters outside/],
  ['naïve', /characters outside/],
  ['x\n', /characters outside/],
  ['A'.repeat(65), /longer than 64/],
];
for (const [name, message] of bad) {
  test(`rejects ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)} with EINVAL`, (t) => {
    const error = t.throws(() => validateContainerName(name), { message });
    t.is((error as { code?: string }).code, 'EINVAL');
  });
}
