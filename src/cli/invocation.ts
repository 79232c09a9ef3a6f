// Where the command was run from, and where the tool itself lives: two different folders.
//
// Why: `npm run provision` (and `npm --prefix REPO run provision`) runs in the repository's
// folder, not the admin's, so relative -i, --private-key, @file, vault password files and
// ./ansible.cfg would be looked up in the wrong place. npm records the admin's folder in
// INIT_CWD. The installed command (bin) runs where the admin stands already.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding this package's package.json (the repository, or the installed package). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(from)}: the trento-provision package is incomplete; reinstall it`);
    dir = up;
  }
  return dir;
}

/**
 * The admin's folder. INIT_CWD counts only when npm moved the process to the package's own
 * folder (npm run): a bin started by some other npm script, in another folder, keeps its cwd
 * even though it inherited an INIT_CWD.
 */
export function invocationDir(env: NodeJS.ProcessEnv, cwd: string, root: string): string {
  const init = env.INIT_CWD;
  return init && resolve(cwd) === resolve(root) ? resolve(init) : cwd;
}

export interface PackageInfo {
  name: string;
  version: string;
}

export function packageInfo(root: string): PackageInfo {
  const parsed = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Partial<PackageInfo>;
  return { name: parsed.name ?? 'trento-provision', version: parsed.version ?? 'unknown' };
}
