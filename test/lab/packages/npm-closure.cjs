#!/usr/bin/env node
// The runtime dependency closure of an npm package installed in the repository's node_modules:
// the package folders to copy next to a program that runs where node_modules is not visible
// (the lab's alloy RPM ships alloy-remote-write.cjs with prometheus-remote-write this way).
// Type-only packages (@types/*, undici-types) are left out: nothing requires them at run time.
//   node test/lab/packages/npm-closure.cjs NAME   -> one "name<TAB>version<TAB>dir" line per package
// Exit 3 with a message when NAME is not installed.
'use strict';
const { dirname, join } = require('node:path');
const { existsSync, readFileSync } = require('node:fs');

/** Node's lookup of a package folder: node_modules of `from` and of each parent, then NODE_PATH.
 *  (require.resolve('x/package.json') fails for packages whose "exports" hide package.json.) */
function packageDir(pkg, from) {
  const dirs = [];
  for (let d = from; ; d = dirname(d)) {
    if (!d.endsWith('/node_modules')) dirs.push(join(d, 'node_modules'));
    if (dirname(d) === d) break;
  }
  dirs.push(...(process.env.NODE_PATH || '').split(':').filter(Boolean));
  for (const base of dirs) {
    if (existsSync(join(base, pkg, 'package.json'))) return join(base, pkg);
  }
  const e = new Error(`cannot find ${pkg} from ${from}`);
  e.code = 'MODULE_NOT_FOUND';
  throw e;
}

function closure(name, fromDir = __dirname) {
  const seen = new Map();
  const visit = (pkg, from) => {
    if (seen.has(pkg) || pkg.startsWith('@types/') || pkg === 'undici-types') return;
    // From the requiring package's folder, as node looks it up at run time.
    const dir = packageDir(pkg, from);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    seen.set(pkg, { name: pkg, version: meta.version, dir });
    for (const dep of Object.keys(meta.dependencies || {})) visit(dep, dir);
  };
  visit(name, fromDir);
  return [...seen.values()];
}

module.exports = { closure };

if (require.main === module) {
  const name = process.argv[2];
  if (!name) {
    process.stderr.write('usage: npm-closure.cjs NAME\n');
    process.exit(2);
  }
  try {
    for (const p of closure(name, join(__dirname, '..', '..', '..'))) process.stdout.write(`${p.name}\t${p.version}\t${p.dir}\n`);
  } catch (e) {
    process.stderr.write(`${name} is not installed (${e.code || e.message}); run: npm install\n`);
    process.exit(3);
  }
}
