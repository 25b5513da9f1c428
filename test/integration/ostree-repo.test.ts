// The ostree command-line wrapper reads back exactly what was committed: bytes, not text.
import { join } from 'node:path';
import { OstreeRepo } from '../../store/ostree/ostree-repo.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';
import { tempDir } from '../helpers/store-fixtures.js';

const test = testNeeding(needs.store);

test('readFile returns a file byte for byte: a final newline (or two, or CR LF) is content, not output to trim', async (t) => {
  const repo = new OstreeRepo(join(await tempDir(t), 'repo'));
  await repo.ensure('bare-user');
  const files: Record<string, Buffer> = {
    '/config.json': Buffer.from('{"architecture":"amd64"}\n'),
    '/two.txt': Buffer.from('line\n\n'),
    '/crlf.txt': Buffer.from('line\r\n'),
    '/binary': Buffer.from([0x98, 0x33, 0x00, 0xff, 0x0a]),
    '/none': Buffer.from('no newline'),
  };
  const commit = await repo.commitFiles(files, {});
  for (const [path, content] of Object.entries(files)) t.deepEqual(await repo.readFile(commit, path), content, path);
});
