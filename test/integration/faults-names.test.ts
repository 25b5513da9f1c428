// Template and name abuse end to end through the CLI: `--set` values with quotes, `$`, JSON,
// unit-file syntax and newlines reach the container exactly as given or are refused, never
// interpreted (no injected JSON elements, unit directives or variable expansion); container
// names with `/`, `..`, spaces, unicode are refused before anything is written.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { cleanupRunc, cli, isolatedEnv, pushImage, serviceImage, faultKitNeeds } from '../helpers/fault-kit.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

const prefix = `fn${process.pid}`;
let registry: RegistryServer;
let image: string;

const configTemplate = {
  ociVersion: '1.0.2',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done', '$GREETING'],
    env: ['PATH=/bin', 'GREETING=$GREETING'],
    cwd: '/',
    capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: '$NAME',
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }] },
};
const serviceTemplate = `[Unit]
Description=greeter $GREETING

[Service]
Environment="GREETING=$GREETING"
ExecStart=$EXEC_START
ExecStop=$EXEC_STOP
WorkingDirectory=$DESTDIR

[Install]
WantedBy=multi-user.target
`;

test.before(async () => {
  registry = await startRegistry();
  const built = await serviceImage('names', {
    extraLayers: [
      {
        entries: [
          { type: 'dir', path: 'exports/', mode: 0o755 },
          { type: 'file', path: 'exports/config.json.template', content: JSON.stringify(configTemplate), mode: 0o644 },
          { type: 'file', path: 'exports/service.template', content: serviceTemplate, mode: 0o644 },
          { type: 'file', path: 'exports/manifest.json', content: JSON.stringify({ version: '1.0', defaultValues: { GREETING: 'hello' } }), mode: 0o644 },
        ],
      },
    ],
  });
  image = await pushImage(registry.host, 'faults/names', 'v1', built);
});

test.after.always(async () => {
  await cleanupRunc(prefix);
  await registry?.stop();
});

const hostileValues: Record<string, string> = {
  quotes: `it's "quoted" \\"escaped\\"`,
  'json injection': `x", "CAP_SYS_ADMIN`,
  'json object': `{"a": [1, 2], "b": null}`,
  dollar: `$NAME \${DESTDIR} $$ $(id) \`id\``,
  'unit syntax': `a" ExecStartPre=/bin/evil ; %n %h \\ [Service]`,
  'shell syntax': `; rm -rf / && echo pwned | cat > /x`,
  unicode: 'héllo wörld ✓ 日本',
};

let seq = 0;
for (const [what, value] of Object.entries(hostileValues)) {
  test(`--set with ${what}: reaches the container verbatim or is refused; nothing is interpreted`, async (t) => {
    const dir = await tempDir(t);
    const env = isolatedEnv(dir);
    await mkdir(join(dir, 'state'));
    const name = `${prefix}v${++seq}`;
    t.teardown(async () => void (await cli(['uninstall', name], env)));
    const install = await cli(['install', '--system', '--name', name, '--set', `STATE_DIRECTORY=${join(dir, 'state')}`, '--set', `GREETING=${value}`, image], env);
    if (install.exitCode !== 0) {
      // Refusing is fine, if it says why and leaves nothing.
      t.regex(install.stderr, /error: .*(GREETING|template|value|does not pass systemd-analyze verify)/i);
      t.deepEqual((await readdir(env.SYSCONTAINER_ROOT!)).filter((e) => e.startsWith(name)), []);
      t.log(`refused: ${install.stderr.split('\n').find((l) => l.startsWith('error:'))}`);
      return;
    }
    const config = JSON.parse(await readFile(join(env.SYSCONTAINER_ROOT!, name, 'config.json'), 'utf8')) as typeof configTemplate;
    t.deepEqual(config.process.args, [...configTemplate.process.args.slice(0, 3), value], 'args: the value is one element, verbatim');
    t.true(config.process.env.includes(`GREETING=${value}`), 'env verbatim');
    t.deepEqual(config.process.capabilities.bounding, ['CAP_KILL'], 'no capability injected');
    t.is(config.hostname, name);
    // Inside the running container the variable is exactly the value.
    const inside = await cli(['exec', name, '/bin/sh', '-c', 'printf %s "$GREETING"'], env);
    t.is(inside.exitCode, 0, inside.stderr);
    t.is(inside.stdout, value);
    // The unit: the same directives as the template, none added by the value.
    const unit = await readFile(join(env.SYSCONTAINER_UNIT_DIR!, `${name}.service`), 'utf8');
    const directives = (text: string) => text.split('\n').filter((l) => /^\s*[A-Za-z]+=/.test(l) || /^\[/.test(l)).map((l) => l.split('=')[0]!.trim());
    t.deepEqual(directives(unit), directives(serviceTemplate));
    t.notRegex(unit, /^ExecStartPre=\/bin\/evil/m);
    t.log(`unit: ${unit.split('\n').filter((l) => l.includes('GREETING') || l.startsWith('Description')).join(' | ')}`);
  });
}

test('--set with a newline, a tab or NUL is refused with EINVAL', async (t) => {
  const env = isolatedEnv(await tempDir(t));
  for (const value of ['a\nExecStartPre=/bin/evil', 'a\tb', 'a\rb']) {
    const run = await cli(['install', '--system', '--name', `${prefix}nl`, '--set', `GREETING=${value}`, image], env);
    t.not(run.exitCode, 0, run.stderr);
    t.regex(run.stderr, /--set GREETING: value contains a newline or another control character/);
  }
  for (const key of ['A B', '1X', 'X-Y', 'NAME', 'DESTDIR', '$X']) {
    const run = await cli(['install', '--system', '--name', `${prefix}nl`, '--set', `${key}=v`, image], env);
    t.not(run.exitCode, 0);
    t.regex(run.stderr, /--set .*(not a variable name|set by the installer)/, key);
  }
  t.deepEqual(await readdir(env.SYSCONTAINER_ROOT!).catch(() => []), [], 'nothing written');
});

const badNames = ['a/b', '../etc', '..', '.hidden', 'a b', 'ünïcode', 'x'.repeat(65), 'a;rm', '$(id)', '', 'name\nx', '/abs'];

test('hostile container names are refused by every command before anything is written', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  t.is((await cli(['pull', image], env)).exitCode, 0);
  const before = (await readdir(env.SYSCONTAINER_ROOT!)).sort();
  for (const bad of badNames) {
    const install = await cli(['install', '--system', '--name', bad, image], env);
    t.not(install.exitCode, 0, `install ${JSON.stringify(bad)}`);
    t.regex(install.stderr, /container name|--name|needs --name/, `install ${JSON.stringify(bad)}: ${install.stderr}`);
    for (const verb of ['uninstall', 'update', 'rollback', 'start', 'stop', 'status']) {
      if (bad === '') continue;
      const run = await cli([verb, bad], env);
      t.not(run.exitCode, 0, `${verb} ${JSON.stringify(bad)}`);
      t.regex(run.stderr, /container name .* (has characters|starts with|is longer|is empty)|takes exactly one NAME|not installed/, `${verb} ${JSON.stringify(bad)}: ${run.stderr}`);
    }
  }
  t.deepEqual((await readdir(env.SYSCONTAINER_ROOT!)).sort(), before, 'nothing new under the root');
  t.deepEqual(await readdir(env.SYSCONTAINER_UNIT_DIR!).catch(() => []), [], 'no unit written');
  t.deepEqual(await readdir('/etc/systemd/system').then((l) => l.filter((e) => e.includes('ünï') || e.includes('$(id)'))), []);
});
