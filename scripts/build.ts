// npm run build (and prepack): the installable package's JavaScript in dist/.
//
// dist/ mirrors the repository (dist/src, dist/scripts, dist/roles) so that every
// import.meta.url path ('../../roles/alloy/templates/trento.alloy.ejs', '../defaults/main.yml')
// finds the same file from the compiled .js as from the .ts; the non-code files are copied
// beside their compiled modules for that reason.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { RUNTIME_FILE_EXTENSIONS, STAMP, sourcesHash } from './sources-hash.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--out DIR`: another folder than dist/ (the test suite's own build, test/support/compiled-cli.ts).
// It must lie inside the repository, as dist/ does, for the compiled modules to find node_modules.
const out = process.argv[2] === '--out' && process.argv[3] ? process.argv[3] : undefined;
if (process.argv.length > 2 && out === undefined) {
  process.stderr.write('usage: tsx scripts/build.ts [--out DIR]\n');
  process.exit(1);
}
const dist = resolve(root, out ?? 'dist');

// Which sources this is the build of, read before they are compiled: a source edited while the
// build runs leaves the stamp older than it, so scripts/launch.mjs runs it through tsx, never a
// build that lacks the edit.
const built = sourcesHash(root);
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
if (compiled.status !== 0) {
  process.stderr.write(`build: tsc -p tsconfig.build.json failed (exit ${compiled.status}); fix the errors above and run npm run build again\n`);
  process.exit(1);
}
// Files the code reads beside itself at run time (sources-hash.mjs says which: it stamps them too).
for (const tree of ['src', 'roles']) {
  cpSync(join(root, tree), join(dist, tree), {
    recursive: true,
    dereference: true, // the package carries a linked file's content, not a link into this checkout
    filter: (source) => statSync(source).isDirectory() || RUNTIME_FILE_EXTENSIONS.has(extname(source)),
  });
}
// Each command's entry becomes one file holding its modules and its libraries: Node.js 20 loads
// ~150 modules one by one (zx's alone ~55 ms) and has no compile cache; bundled, --help takes
// 0.17 s instead of 0.33 s of wall time and 0.17 s instead of 0.39 s of CPU, and every run starts
// that much sooner (issue 12). What is imported only when needed (the paramiko transport, ora for
// a terminal, ...) is a chunk loaded then. The compiled modules stay beside the bundle: their
// shell files and templates are found from each one's own import.meta.url, which the bundle keeps
// (moduleUrls); entries and chunks all go to dist/scripts/, where those URLs are computed from.
const scriptsDir = join(dist, 'scripts');
const bundleDir = join(dist, '.bundle');
await build({
  entryPoints: ['provision', 'inventory'].map((name) => join(scriptsDir, `${name}.js`)),
  outdir: bundleDir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages of their own, loaded from node_modules when needed: ssh2 (with node-ssh) for its
  // optional native addon, and yaml, a CommonJS package imported with import(): in a chunk of
  // esbuild's it has only a default export, and `const { parse } = await import('yaml')` got
  // undefined (every pull host of a --verify-prometheus run failed on it).
  external: ['ssh2', 'node-ssh', 'yaml'],
  // the libraries' CommonJS code calls require(), which an ES module has not
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  plugins: [moduleUrls(dist, scriptsDir)],
  logLevel: 'warning', // what esbuild doubts (a require it cannot follow) is for the builder to read
});
for (const file of readdirSync(bundleDir)) renameSync(join(bundleDir, file), join(scriptsDir, file));
rmSync(bundleDir, { recursive: true });
// Last, once everything is in place (scripts/launch.mjs runs dist/ only when the stamp names the
// current sources).
writeFileSync(join(dist, STAMP), `${built}\n`);

/** Gives every compiled module in the bundle its own file's URL as import.meta.url, not the
 *  bundle's: '../../roles/...' and './framing.sh' then resolve as they did module by module. */
function moduleUrls(distDir: string, outputDir: string): Plugin {
  return {
    name: 'module-urls',
    setup(bundler) {
      bundler.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(distDir + sep)) return undefined; // a library: as it is
        const code = readFileSync(args.path, 'utf8');
        const fromBundle = relative(outputDir, args.path).split(sep).join('/');
        return { contents: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'js' };
      });
    },
  };
}
