// The fingerprint of everything `npm run build` compiles or copies into dist/: written beside
// the build (dist/.sources-sha256) by scripts/build.ts, compared by scripts/launch.mjs, so the
// repository's commands run the compiled code only when it is exactly the sources' build.
// Plain JavaScript: the launcher reads it before any TypeScript loader exists.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

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

/** The input files, in a fixed order. */
const inputFiles = (root) => INPUTS.flatMap((p) => filesUnder(root, p)).filter((f) => !/^(src|roles)\//.test(f) || isBuilt(f));

/** sha256 over each input file's path and content, in a fixed order. */
export function sourcesHash(root) {
  const hash = createHash('sha256');
  for (const file of inputFiles(root)) {
    const content = readFileSync(join(root, file));
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}

/** The file in dist/ that says what the input files were on disk when the build hashed them. */
export const STATE = '.sources-state';

/**
 * Each input file as the file system has it: path, size, inode and change time. The change time
 * moves on every write to a file (and cannot be set back, unlike the modification time), so the
 * same state as the build's means the same sources: the launcher then reads ~500 stats instead
 * of hashing every file (~5 ms where the hash took ~60 ms of every `npm run provision`). Taken by
 * the build before it hashes: a file written in between makes the state stale, never the hash.
 */
export function sourcesState(root) {
  return inputFiles(root)
    .map((file) => {
      const st = statSync(join(root, file), { bigint: true });
      return `${file}\0${st.size}\0${st.ino}\0${st.ctimeNs}`;
    })
    .join('\n');
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
  if (!existsSync(entry)) return undefined;
  // Files copied elsewhere, touched or rewritten with the same bytes: the hash decides.
  return unchangedSince(join(root, 'dist', STATE), root) || stamp === sourcesHash(root) ? entry : undefined;
}

function unchangedSince(stateFile, root) {
  try {
    return readFileSync(stateFile, 'utf8') === sourcesState(root);
  } catch {
    return false; // a build older than the state file, or a source removed meanwhile
  }
}
