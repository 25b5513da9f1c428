// common/captured-command.ts: a short command's exit and output, read as execa's reject: false.
import test from 'ava';
import { capture } from '../../common/captured-command.js';

test('output without its final newline, exit code 0, not failed', async (t) => {
  const result = await capture('sh', ['-c', 'printf "one\\ntwo\\n"; printf "warn\\n" >&2']);
  t.like(result, { exitCode: 0, stdout: 'one\ntwo', stderr: 'warn', failed: false, shortMessage: '' });
});

test('a non-zero exit fails with its code and keeps the output', async (t) => {
  const result = await capture('sh', ['-c', 'echo out; echo err >&2; exit 3']);
  t.like(result, { exitCode: 3, stdout: 'out', stderr: 'err', failed: true });
  t.regex(result.shortMessage, /exit code 3: sh -c/);
});

test('a command that cannot start fails with the error code, no exit code', async (t) => {
  const result = await capture('/nonexistent/tool', ['x']);
  t.like(result, { exitCode: undefined, failed: true, code: 'ENOENT' });
  t.regex(result.shortMessage, /ENOENT: \/nonexistent\/tool x/);
});

test('stdin is closed, env is added to this process environment', async (t) => {
  const result = await capture('sh', ['-c', 'cat; echo "$CAPTURE_TEST $PATH"'], { env: { CAPTURE_TEST: 'set' } });
  t.is(result.stdout, `set ${process.env.PATH}`);
});

test('a killed command and too much output fail', async (t) => {
  t.like(await capture('sh', ['-c', 'kill -TERM $$']), { exitCode: undefined, signal: 'SIGTERM', failed: true });
  const large = await capture('sh', ['-c', 'yes | head -c 100000'], { maxBuffer: 1000 });
  t.true(large.failed);
  t.regex(large.shortMessage, /stdout was larger than 1000 bytes/);
});
