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
import { build } from 'esbuild';

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
  plugins: [lazyBuiltins],
  // Some dependencies are CommonJS and call require() (so do the built-ins above); give the ES
  // module one.
  banner: { js: "import { createRequire as syscontainerRequire } from 'node:module'; const require = syscontainerRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ['dist/cli/main.js'], outfile: 'dist/syscontainer.mjs' });

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
  plugins: [ourModulesArePure],
  external: [...common.external, 'log-update'],
});
