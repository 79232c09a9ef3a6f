// The fingerprint of everything `npm run build` compiles or copies into dist/: written beside
// the build (dist/.sources-sha256) by scripts/build.ts, compared by scripts/launch.mjs, so the
// repository's commands run the compiled code only when it is exactly the sources' build.
// Plain JavaScript: the launcher reads it before any TypeScript loader exists.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file in dist/ that names the sources it was built from. */
export const STAMP = '.sources-sha256';

/** The trees and files dist/ is made from (tsconfig.build.json's "include", and its settings),
 *  and what makes it (a change to what the build copies is a new build too). */
const INPUTS = [
  'src',
  'roles',
  'scripts/provision.ts',
  'scripts/inventory.ts',
  'scripts/build.ts',
  'scripts/sources-hash.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
];

/** Every file under a path (the path itself when it is a file), sorted. */
function filesUnder(root, path) {
  let entries;
  try {
    entries = readdirSync(join(root, path), { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOTDIR') return [path];
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(root, join(path, e.name)) : [join(path, e.name)])).sort();
}

/** sha256 over each input file's path and content, in a fixed order. */
export function sourcesHash(root) {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((p) => filesUnder(root, p))) {
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
  return stamp === sourcesHash(root) ? join(root, 'dist', 'scripts', `${name}.js`) : undefined;
}
