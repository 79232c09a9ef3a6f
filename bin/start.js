// What the installed commands share before the compiled code loads: a Node.js too old for it
// (Debian 12's own is 18; npm's "engines" only warns at install) and a package without its
// compiled code (installed from a checkout that was never built, or packed with npm's scripts
// turned off: prepack builds dist/) are each said in one line, with what to do, not a stack trace.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { holdSignals } from './early-signals.js';

export async function startCompiled(script, command) {
  if (script === 'provision') holdSignals();
  // The oldest Node.js the tool runs on: package.json's "engines" (">=MAJOR.MINOR"), read, not copied.
  const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
  const minimum = engines.replace(/^>=/, '').split('.').map(Number);
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < minimum[0] || (major === minimum[0] && minor < minimum[1])) {
    process.stderr.write(`${command}: Node.js ${process.versions.node} is too old; it needs ${minimum.join('.')} or later (https://nodejs.org, or NodeSource's packages for Debian)\n`);
    process.exit(1);
  }
  const entry = fileURLToPath(new URL(`../dist/scripts/${script}.js`, import.meta.url));
  if (!existsSync(entry)) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    process.stderr.write(
      `${command}: its compiled code is missing (${entry}): this package was installed from a folder that was never built, or packed with npm's scripts turned off; in the repository run \`npm ci && npm run build\` (${root}), or install the tarball \`npm pack\` makes there\n`,
    );
    process.exit(1);
  }
  // A checkout installed as it is (npm link, npm install -g .): its sources are beside dist/, and a
  // build older than them would run without a word. (An installed tarball ships no sources.)
  const hashModule = new URL('../scripts/sources-hash.mjs', import.meta.url);
  if (existsSync(fileURLToPath(hashModule)) && existsSync(fileURLToPath(new URL('../src', import.meta.url)))) {
    const { compiledEntry } = await import(hashModule.href);
    const root = fileURLToPath(new URL('..', import.meta.url));
    if (compiledEntry(root, script) === undefined) {
      process.stderr.write(`${command}: its compiled code (${root}dist/) is older than its sources in ${root}: run \`npm run build\` there (or \`npm run ${script}\`, which runs the sources)\n`);
      process.exit(1);
    }
  }
  await import(pathToFileURL(entry).href);
}
