// npm run build (and prepack): the installable package's JavaScript in dist/.
//
// dist/ mirrors the repository (dist/src, dist/scripts, dist/roles) so that every
// import.meta.url path ('../../roles/alloy/templates/trento.alloy.ejs', '../defaults/main.yml')
// finds the same file from the compiled .js as from the .ts; the non-code files are copied
// beside their compiled modules for that reason.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
// Last, once everything is in place (scripts/launch.mjs runs dist/ only when the stamp names the
// current sources).
writeFileSync(join(dist, STAMP), `${built}\n`);
