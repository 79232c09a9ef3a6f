// scripts/launch.mjs (npm run provision): the compiled dist/ only while it is the build of exactly
// the current sources, the TypeScript through tsx otherwise. Run for real on a small tree of its
// own (the launcher and its hash module copied in, node_modules linked for tsx).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lab/paths.ts';
import { compiledEntry, STAMP, sourcesHash } from '../../../scripts/sources-hash.mjs';

let root: string;
const write = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
const stampCurrent = () => write(`dist/${STAMP}`, `${sourcesHash(root)}\n`);
const launch = (...args: string[]) => execFileSync(process.execPath, [join(root, 'scripts', 'launch.mjs'), 'hello', ...args], { encoding: 'utf8' }).trim();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tp-launch-'));
  mkdirSync(join(root, 'scripts'));
  for (const f of ['launch.mjs', 'sources-hash.mjs']) copyFileSync(join(repoRoot, 'scripts', f), join(root, 'scripts', f));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  write('src/run/index.ts', 'export const x = 1;\n');
  write('roles/alloy/defaults/main.yml', 'a: 1\n');
  write('tsconfig.json', '{}\n');
  write('package.json', '{ "type": "module" }\n'); // as the repository's: .ts files are modules
  // The same script twice: its TypeScript (needs tsx: a type annotation) and its "build".
  write('scripts/hello.ts', "const from: string = 'sources';\nconsole.log(from, process.argv.slice(2).join(' '));\n");
  write('dist/scripts/hello.js', "console.log('compiled', process.argv.slice(2).join(' '));\n");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm run provision starts the compiled code only when it is current', () => {
  it('no build stamp: the sources, through tsx, with the arguments as given', () => {
    expect(compiledEntry(root, 'hello')).toBeUndefined();
    expect(launch('-i', 'lab', '--check')).toBe('sources -i lab --check');
  });

  it('dist/ built from exactly these sources: the compiled script', () => {
    stampCurrent();
    expect(compiledEntry(root, 'hello')).toBe(join(root, 'dist', 'scripts', 'hello.js'));
    expect(launch('-i', 'lab')).toBe('compiled -i lab');
  });

  it('any source edited, added or removed after the build: the sources again', () => {
    for (const change of [
      () => write('src/run/index.ts', 'export const x = 2;\n'),
      () => write('roles/alloy/templates/new.ejs', 'x\n'),
      () => rmSync(join(root, 'roles/alloy/templates/new.ejs')),
      () => write('tsconfig.json', '{ }\n'),
    ]) {
      stampCurrent();
      expect(launch()).toBe('compiled');
      change();
      expect(launch()).toBe('sources');
    }
  });
});
