// scripts/launch.mjs (npm run provision): the compiled dist/ only while it is the build of exactly
// the current sources, the TypeScript through tsx otherwise. Run for real on a small tree of its
// own (the launcher and its hash module copied in, node_modules linked for tsx).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(repoRoot, 'bin', 'early-signals.js'), join(root, 'bin', 'early-signals.js')); // the launcher holds signals
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

  it('any source edited, added or removed after the build, or the locked libraries changed: the sources again', () => {
    for (const change of [
      () => write('src/run/index.ts', 'export const x = 2;\n'),
      () => write('roles/alloy/templates/new.ejs', 'x\n'),
      () => rmSync(join(root, 'roles/alloy/templates/new.ejs')),
      () => write('tsconfig.json', '{ }\n'),
      // the libraries the build bundles: a new lockfile (npm ci), or npm's record of node_modules
      () => write('package-lock.json', '{ "lockfileVersion": 3 }\n'),
    ]) {
      stampCurrent();
      expect(launch()).toBe('compiled');
      change();
      expect(launch()).toBe('sources');
    }
  });

  it('a test or a note edited (the build neither compiles nor copies them): still the compiled script', () => {
    stampCurrent();
    write('src/run/index.test.ts', 'it(1);\n');
    write('roles/alloy/README.md', '# notes\n');
    expect(launch()).toBe('compiled');
    write('roles/alloy/templates/link-target.ejs', 'x\n');
    expect(launch()).toBe('sources');
  });

  it('a linked folder among the sources is read through, as tsc reads it (no crash)', () => {
    mkdirSync(join(root, 'shared-templates'), { recursive: true });
    writeFileSync(join(root, 'shared-templates', 'site.ejs'), 'a\n');
    symlinkSync(join(root, 'shared-templates'), join(root, 'roles', 'linked'));
    stampCurrent();
    expect(launch()).toBe('compiled');
    writeFileSync(join(root, 'shared-templates', 'site.ejs'), 'b\n');
    expect(launch()).toBe('sources');
    rmSync(join(root, 'roles', 'linked'));
  });

  it('a script the build does not compile (scripts/lab.ts) runs from its TypeScript even when dist/ is current', () => {
    write('scripts/other.ts', "const from: string = 'other sources';\nconsole.log(from);\n");
    stampCurrent();
    expect(compiledEntry(root, 'other')).toBeUndefined();
    expect(execFileSync(process.execPath, [join(root, 'scripts', 'launch.mjs'), 'other'], { encoding: 'utf8' }).trim()).toBe('other sources');
  });
});

describe('the installed commands (bin/), before the compiled code loads', () => {
  // A package folder of its own: bin/ as shipped, dist/ with or without its compiled script.
  const pkg = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-bin-'));
    mkdirSync(join(dir, 'bin'));
    for (const f of ['start.js', 'early-signals.js', 'trento-provision.js', 'trento-provision-inventory.js'])
      copyFileSync(join(repoRoot, 'bin', f), join(dir, 'bin', f));
    // as shipped: the bin reads the oldest Node.js it runs on from "engines"
    const { engines } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'module', engines })}\n`);
    return dir;
  };
  const run = (dir: string, bin: string, preload?: string) => {
    const r = spawnSync(process.execPath, [...(preload ? ['--import', preload] : []), join(dir, 'bin', bin), '--version'], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };

  it('each runs its compiled script with the arguments as given', () => {
    const dir = pkg();
    mkdirSync(join(dir, 'dist', 'scripts'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'scripts', 'provision.js'), "console.log('provision', process.argv.slice(2).join(' '));\n");
    writeFileSync(join(dir, 'dist', 'scripts', 'inventory.js'), "console.log('inventory', process.argv.slice(2).join(' '));\n");
    expect(run(dir, 'trento-provision.js')).toEqual({ code: 0, out: 'provision --version', err: '' });
    expect(run(dir, 'trento-provision-inventory.js')).toEqual({ code: 0, out: 'inventory --version', err: '' });
  });

  it('a package without its compiled code (a checkout never built, a pack with scripts off) says so in one line, with what to do', () => {
    const dir = pkg();
    const r = run(dir, 'trento-provision.js');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `trento-provision: its compiled code is missing (${join(dir, 'dist', 'scripts', 'provision.js')}): this package was installed from a folder that was never built, or packed with npm's scripts turned off; in the repository run \`npm ci && npm run build\` (${dir}/), or install the tarball \`npm pack\` makes there`,
    );
  });

  it('a checkout installed as it is (npm link): a build older than its sources is named, not run; a current one runs', () => {
    const dir = pkg();
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(repoRoot, 'scripts', 'sources-hash.mjs'), join(dir, 'scripts', 'sources-hash.mjs'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    mkdirSync(join(dir, 'dist', 'scripts'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'scripts', 'provision.js'), "console.log('provision', process.argv.slice(2).join(' '));\n");
    writeFileSync(join(dir, 'dist', STAMP), `${sourcesHash(dir)}\n`);
    expect(run(dir, 'trento-provision.js')).toEqual({ code: 0, out: 'provision --version', err: '' });
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 2;\n'); // edited after the build
    const stale = run(dir, 'trento-provision.js');
    expect(stale.code).toBe(1);
    expect(stale.err).toBe(
      `trento-provision: its compiled code (${dir}/dist/) is older than its sources in ${dir}/: run \`npm run build\` there (or \`npm run provision\`, which runs the sources)`,
    );
  });

  it('a Node.js older than package.json asks for (Debian 12 has 18) is named before anything loads', () => {
    const dir = pkg();
    const old = join(dir, 'node18.mjs');
    writeFileSync(old, "Object.defineProperty(process.versions, 'node', { value: '18.19.0' });\n");
    expect(run(dir, 'trento-provision.js', old)).toEqual({
      code: 1,
      out: '',
      err: "trento-provision: Node.js 18.19.0 is too old; it needs 20.19 or later (https://nodejs.org, or NodeSource's packages for Debian)",
    });
    const engines = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).engines.node;
    expect(engines).toBe('>=20.19');
  });
});
