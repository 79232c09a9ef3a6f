// The fingerprint of everything `npm run build` compiles, bundles or copies into dist/: written beside
// the build (dist/.sources-sha256) by scripts/build.ts, compared by scripts/launch.mjs, so the
// repository's commands run the compiled code only when it is exactly the sources' build.
// Plain JavaScript: the launcher reads it before any TypeScript loader exists.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

/** The file in dist/ that names the sources it was built from. */
export const STAMP = '.sources-sha256';

/** The trees and files dist/ is made from (tsconfig.build.json's "include", and its settings),
 *  what makes it (a change to what the build copies is a new build too), and the libraries the
 *  build bundles into it: the lockfile, and npm's record of what node_modules holds, which npm
 *  rewrites on every install (an `npm ci` of a new lockfile, or one package installed by hand). */
const INPUTS = [
  'src',
  'roles',
  'scripts/provision.ts',
  'scripts/inventory.ts',
  'scripts/build.ts',
  'scripts/sources-hash.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
];

/** Files the code reads beside itself at run time, copied into dist/ by the build: role defaults,
 *  templates and files, and the shell programs (src/**\/*.sh) the scripts are assembled from.
 *  Notes (*.md) stay behind. */
export const RUNTIME_FILE_EXTENSIONS = new Set(['.yml', '.ejs', '.sh']);

/** Whether the build compiles or copies this file of src/ or roles/ (tsconfig.build.json leaves
 *  the tests out): only these make dist/ stale, so a test or a note edited does not. */
function isBuilt(file) {
  if (file.endsWith('.test.ts')) return false;
  return file.endsWith('.ts') || RUNTIME_FILE_EXTENSIONS.has(extname(file));
}

/** Every file under a path (the path itself when it is a file), sorted; a link is followed, as
 *  tsc and the build's copy follow it. */
function filesUnder(root, path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .flatMap((name) => filesUnder(root, join(path, name)))
    .sort();
}

/** sha256 over each input file's path and content, in a fixed order. */
export function sourcesHash(root) {
  const hash = createHash('sha256');
  const inputs = INPUTS.flatMap((p) => filesUnder(root, p)).filter((f) => !/^(src|roles)\//.test(f) || isBuilt(f));
  for (const file of inputs) {
    const content = readFileSync(join(root, file));
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}

/** dist/scripts/NAME.js when dist/ is the build of exactly the sources under `root`, else undefined. */
export function compiledEntry(root, name) {
  let stamp;
  try {
    stamp = readFileSync(join(root, 'dist', STAMP), 'utf8').trim();
  } catch {
    return undefined; // never built (or being rebuilt: the stamp is written last)
  }
  const entry = join(root, 'dist', 'scripts', `${name}.js`);
  // A script the build does not compile (scripts/lab.ts) runs from its TypeScript.
  return stamp === sourcesHash(root) && existsSync(entry) ? entry : undefined;
}
