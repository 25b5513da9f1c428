// Bundles the built CLI (dist/cli/main.js) and its dependencies into one file,
// dist/syscontainer.mjs, the `syscontainer` command. One file loads in about half the time
// of hundreds of modules, and every command pays that start-up cost.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/syscontainer.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // openpgp (~1 MB) is loaded only when a signature policy asks for signedBy: left out of the
  // bundle, every other command does not even parse it. It is a dependency, so node_modules has it.
  external: ['openpgp'],
  // Some dependencies are CommonJS and call require(); give the ES module one.
  banner: { js: "import { createRequire as syscontainerRequire } from 'node:module'; const require = syscontainerRequire(import.meta.url);" },
});
