// The site's syscontainer.conf: optional, validated whole, a typo named instead of ignored.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { readConfigFile } from '../../app/config-file.js';
import { tempDir } from '../helpers/cli.js';

test('a missing file is the defaults; [install] confined is read', async (t) => {
  const dir = await tempDir(t);
  t.deepEqual(readConfigFile(path.join(dir, 'none.conf')), { confined: false });
  await writeFile(path.join(dir, 'a.conf'), '# the site\n[install]\nconfined = true\n');
  t.deepEqual(readConfigFile(path.join(dir, 'a.conf')), { confined: true });
});

test('an unknown key or table, a wrong type or bad TOML is an error naming the file and the key', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'syscontainer.conf');
  for (const [text, message] of [
    ['[install]\nconfind = true\n', `${file}: install.confind: unknown setting`],
    ['[instal]\nconfined = true\n', `${file}: instal: unknown setting`],
    ['[install]\nconfined = "yes"\n', new RegExp(`^${file}: install\\.confined: `)],
    ['[install\n', new RegExp(`^${file}: not valid TOML`)],
  ] as const) {
    await writeFile(file, text);
    t.throws(() => readConfigFile(file), { message }, text);
  }
});
