// npm run provision / uninstall / inventory: runs scripts/NAME's compiled JavaScript from dist/
// when dist/ is the build of exactly the current sources and locked libraries (scripts/setup.sh
// builds it), and the TypeScript through tsx otherwise (an edited checkout works at once, just
// starts slower).
// The compiled start-up is ~0.4 s faster on this project's machine (0.14 s against 0.5 s for
// --help): every run pays it.
// Usage: node scripts/launch.mjs NAME [args...]
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { holdSignals } from '../bin/early-signals.js';
import { compiledEntry } from './sources-hash.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...args] = process.argv.slice(2);
// A signal while the modules load waits for the run's handlers (bin/early-signals.js).
if (name === 'provision') holdSignals();
if (!name || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: node scripts/launch.mjs SCRIPT [args...] (SCRIPT: provision, inventory)\n');
  process.exit(1);
}
const compiled = compiledEntry(root, name);
// The script reads its arguments from process.argv[2...], as when node runs it directly.
const entry = compiled ?? join(root, 'scripts', `${name}.ts`);
process.argv = [process.argv[0], entry, ...args];
if (!compiled) (await import('tsx/esm/api')).register();
await import(pathToFileURL(entry).href);
