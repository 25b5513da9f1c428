// Bundles the built CLI (dist/cli/main.js) and its dependencies into one file,
// dist/syscontainer.mjs, the `syscontainer` command. Every command pays the bundle's start-up
// (the health-check timer runs one per container per interval), so the bundle is shaped for it:
// - one file: loads in about half the time of hundreds of modules;
// - Node's built-in modules are loaded on first use, not at start-up: an ES import of a
//   built-in is resolved before anything runs (each with an ES facade over it), and even a
//   require() at the importing module's start loads it (node:crypto alone is ~20 ms). Each
//   built-in is replaced by a CommonJS module of getters that require() it when a property
//   is first read (esbuild's interop copies getters, not values);
// - modules reached only through `await import()` (cli/main.ts imports the commands so) are
//   wrapped by esbuild in lazy initialisers: V8 only pre-parses them, and compiles and runs
//   a module when that import happens, so `--version` and `--help` run none of them.
//   (Minifying does not help: it turns the initialisers into arrows in call parentheses,
//   which V8 compiles eagerly.)
// openpgp (~1 MB) is loaded only when a signature policy asks for signedBy: left out of the
// bundle, every other command does not even parse it. It is a dependency, so node_modules has it.
import { builtinModules, createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { deferredMarker } from '../dist/cli/deferred-code.js';

const syscontainerRequire = createRequire(import.meta.url);

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(bundle) {
    bundle.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (args.namespace === 'lazy-builtin' || !builtinModules.includes(name)) return undefined;
      return { path: name, namespace: 'lazy-builtin' };
    });
    bundle.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const id = JSON.stringify(`node:${args.path}`);
      const actual = syscontainerRequire(`node:${args.path}`);
      // node:events, node:stream, node:assert, … export a function (a class to extend): as is.
      if (typeof actual === 'function') return { contents: `module.exports = require(${id});`, loader: 'js' };
      const names = Object.keys(actual).filter((key) => key !== 'default');
      const getters = names.map((key) => `${JSON.stringify(key)}: { enumerable: true, get: () => load()[${JSON.stringify(key)}] }`);
      return {
        contents: [
          `let loaded; const load = () => (loaded ??= require(${id}));`,
          `Object.defineProperties(module.exports, { ${getters.join(', ')} });`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

// Packages whose modules do work when they load (execa ~50 ms: its signal tables, stream
// helpers, …; tar-stream and its stream library; ejs; yaml; smol-toml) are loaded when first
// used, not when a module that imports them loads: every command loads every module of ours,
// and status, list and a health check use none of these (their short commands go through
// common/captured-command.ts, not execa). Each is replaced by a module of getters, one per
// export (and per property of the default export, which `import x from` reads), that require()
// the real package on first read; esbuild still bundles the real one, as a require.
const lazyPackageNames = ['execa', 'tar-stream', 'ejs', 'yaml', 'smol-toml'];
const lazyPackageExports = new Map();
for (const name of lazyPackageNames) {
  const real = await import(name);
  const fromDefault = real.default !== null && typeof real.default === 'object' ? Object.keys(real.default) : [];
  lazyPackageExports.set(name, [...new Set([...Object.keys(real), ...fromDefault])].filter((key) => key !== 'default'));
}
const lazyPackages = {
  name: 'lazy-packages',
  setup(bundle) {
    const names = new RegExp(`^(${lazyPackageNames.map((name) => name.replace(/[-/]/g, '\\$&')).join('|')})$`);
    bundle.onResolve({ filter: names }, (args) => (args.pluginData === 'real' ? undefined : { path: args.path, namespace: 'lazy-package' }));
    bundle.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => {
      const getters = lazyPackageExports.get(args.path).map((key) => `${JSON.stringify(key)}: { enumerable: true, get: () => exported(${JSON.stringify(key)}) }`);
      return {
        resolveDir: process.cwd(),
        loader: 'js',
        contents: [
          `let loaded; const load = () => (loaded ??= require(${JSON.stringify(`${args.path}?real`)}));`,
          // An ES package's default export holds what a CommonJS one has at its top.
          'const exported = (key) => { const real = load(); return Object.hasOwn(real, key) || real.default == null ? real[key] : real.default[key]; };',
          `Object.defineProperties(module.exports, { ${getters.join(', ')} });`,
        ].join('\n'),
      };
    });
    bundle.onResolve({ filter: /\?real$/ }, (args) => bundle.resolve(args.path.slice(0, -'?real'.length), { kind: 'require-call', resolveDir: args.resolveDir, pluginData: 'real' }));
  },
};

// esbuild's __toESM (an ES import of a CommonJS module) copies every export of the module into
// a new object of getters at each import: the lazy built-ins above, imported by ~300 modules,
// made ~9,000 getters at every start. The copy of a module is kept and reused while the module
// has the same properties (a CommonJS module may still be adding its exports when first imported).
const toEsmHelper = 'var __toESM = (mod, isNodeMode, target';
const reusedToEsm = [
  'var __toESMCopies = [/* @__PURE__ */ new WeakMap(), /* @__PURE__ */ new WeakMap()];',
  'var __toESM = (mod, isNodeMode) => {',
  "  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return __toESMCopy(mod, isNodeMode);",
  '  const copies = __toESMCopies[isNodeMode ? 1 : 0], count = __getOwnPropNames(mod).length;',
  '  let kept = copies.get(mod);',
  '  if (kept === undefined || kept.count !== count) copies.set(mod, (kept = { copy: __toESMCopy(mod, isNodeMode), count }));',
  '  return kept.copy;',
  '};',
].join('\n');
/** `code` with esbuild's __toESM renamed __toESMCopy and the reusing one above in front of it. */
function reuseToEsmCopies(code) {
  const at = code.indexOf(toEsmHelper);
  if (at < 0 || code.indexOf(toEsmHelper, at + 1) >= 0) throw new Error(`bundle: esbuild's __toESM helper is not where expected (${toEsmHelper})`);
  return `${code.slice(0, at)}${reusedToEsm}\nvar __toESMCopy${code.slice(at + 'var __toESM'.length)}`;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // fetch-blob loads this polyfill only where globalThis.ReadableStream is missing (never on
  // Node 20): left out, its 180 kB are not parsed at every start; a require would still find it.
  external: ['openpgp', 'web-streams-polyfill', 'web-streams-polyfill/*'],
  plugins: [lazyBuiltins, lazyPackages],
  // Some dependencies are CommonJS and call require() (so do the built-ins above); give the ES
  // module one.
  banner: { js: "import { createRequire as syscontainerRequire } from 'node:module'; const require = syscontainerRequire(import.meta.url);" },
};

// The CLI in two parts, one file. The entry (cli/main.ts: argv, --help of the global options,
// --version) is the module Node loads; everything cli/run-command.ts reaches is the deferred
// part, built as one CommonJS function and kept in a comment at the end of the same file, so
// V8 does not parse its ~1.9 MB at every start (cli/deferred-code.ts compiles it, through V8's
// code cache, when a command runs). Its import.meta.url is the bundle's, as before.
const deferredBuild = await build({
  ...common,
  entryPoints: ['dist/cli/run-command.js'],
  format: 'cjs',
  write: false,
  sourcemap: false,
  banner: {},
  define: { 'import.meta.url': 'syscontainerBundleUrl' },
  // import() of what is left outside (openpgp) becomes a require(): a vm.Script has no module loader.
  supported: { 'dynamic-import': false },
});
// ASCII only (non-ASCII is left in comments alone: escaped, the text reads the same), so the
// loader can read the file as latin1 without decoding UTF-8; and no comment end inside.
const deferredCode = reuseToEsmCopies(deferredBuild.outputFiles[0].text).replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (deferredCode.includes('\u0001')) throw new Error('bundle: the deferred code contains U+0001, which its escaping uses');
const deferredText = `(function (require, module, exports, syscontainerBundleUrl) {\n${deferredCode}\n})`.replaceAll('*/', '*\u0001/');
const deferredDigest = createHash('sha256').update(deferredText).digest('hex');
const deferredLoader = {
  name: 'deferred-run-command',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\/run-command\.js$/ }, (args) => ({ path: args.path, namespace: 'deferred', pluginData: args.resolveDir }));
    bundle.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      resolveDir: args.pluginData,
      loader: 'js',
      contents: [
        "import { loadDeferredCode } from './deferred-code.js';",
        'export async function runCommand(argv, env, first) {',
        `  const deferred = loadDeferredCode(import.meta.url, ${JSON.stringify(deferredDigest)}, env, first.positionals);`,
        '  try {',
        '    return await deferred.exports.runCommand(argv, env, first);',
        '  } finally {',
        '    deferred.saveCache();',
        '  }',
        '}',
      ].join('\n'),
    }));
  },
};
const entryBuild = await build({ ...common, entryPoints: ['dist/cli/main.js'], outfile: 'dist/syscontainer.mjs', write: false, plugins: [lazyBuiltins, lazyPackages, deferredLoader] });
for (const file of entryBuild.outputFiles) {
  if (!file.path.endsWith('.mjs')) {
    await writeFile(file.path, file.contents);
    continue;
  }
  // The deferred code goes before the source map comment, which stays the file's last line.
  const text = reuseToEsmCopies(file.text);
  const mapAt = text.lastIndexOf('\n//# sourceMappingURL=');
  await writeFile(file.path, `${text.slice(0, mapAt)}${deferredMarker}${deferredText}\n*/${text.slice(mapAt)}`, { mode: 0o755 });
}

// What each health timer starts every interval: only the modules one check needs (~25 KiB
// instead of the whole CLI's 2 MB), so a check costs little more than the runc exec it runs.
// It reaches the check through the layers' entries (app/index.js, runtime/index.js), which
// re-export everything: our modules are declared free of side effects for this bundle, so
// esbuild keeps only those the check's code uses (no registry, store, zod or template code).
const ourModulesArePure = {
  name: 'our-modules-are-pure',
  setup(plugin) {
    plugin.onResolve({ filter: /^\./ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const resolved = await plugin.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'resolving' });
      if (resolved.errors.length > 0 || resolved.path.includes('/node_modules/')) return resolved;
      return { ...resolved, sideEffects: false };
    });
  },
};
// log-update is only loaded by commands that draw progress, which this entry has none of. The
// lazy built-ins are left out: this entry needs the few it imports at once.
await build({
  ...common,
  entryPoints: ['dist/cli/healthcheck-main.js'],
  outfile: 'dist/syscontainer-healthcheck.mjs',
  plugins: [ourModulesArePure, lazyPackages],
  external: [...common.external, 'log-update'],
});
