// Types of scripts/sources-hash.mjs (plain JavaScript: the launcher runs before any TypeScript loader).
/** The file in dist/ that names the sources it was built from. */
export const STAMP: string;
/** Extensions of the non-code files the build copies into dist/ beside the compiled modules. */
export const RUNTIME_FILE_EXTENSIONS: ReadonlySet<string>;
/** sha256 over the files dist/ is built from. */
export function sourcesHash(root: string): string;
/** dist/scripts/NAME.js when dist/ is the build of exactly the sources under `root` and compiles
 *  that script, else undefined. */
export function compiledEntry(root: string, name: string): string | undefined;
