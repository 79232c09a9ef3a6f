// What every run pays before its first connection: the modules the CLI's static imports load.
// The in-process client (ssh2 through node-ssh) is imported only when a host asks for
// ansible_connection=paramiko, the terminal spinner (ora) only for a terminal, the diff library
// by the first diff and the yaml library by the first agent.yaml mask; the OpenSSH transport
// takes zx's core ($ and its process types), not zx's index with its bundled extras.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lab/paths.ts';

/** A module hook that prints, on stderr, every module it resolves inside node_modules. */
const HOOK = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const at = r.url.lastIndexOf('/node_modules/');
  if (at >= 0) process.stderr.write('tp-loaded ' + r.url.slice(at + 14) + '\\n');
  return r;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

/** The node_modules paths (package/file) that `node scripts/SCRIPT ARGS` resolves. */
function modulesLoaded(script: string, args: string[]): string[] {
  const run = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--import', 'tsx', join(repoRoot, 'scripts', script), ...args],
    { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (run.status !== 0) throw new Error(`${script} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return [...run.stderr.matchAll(/^tp-loaded (\S+)$/gm)].map((m) => m[1]!);
}

describe('start-up loads only what every run needs', () => {
  it('provision: zx core only; no ssh2, node-ssh, ora, diff or yaml until a run uses them', () => {
    const loaded = modulesLoaded('provision.ts', ['--help']);
    const packages = new Set(
      loaded.map((path) =>
        path
          .split('/')
          .slice(0, path.startsWith('@') ? 2 : 1)
          .join('/'),
      ),
    );
    const zx = loaded.filter((path) => path.startsWith('zx/'));
    expect(zx).toContain('zx/build/core.js');
    expect(
      zx.filter((path) => /^zx\/build\/(index|vendor-extra|vendor)\./.test(path)),
      zx.join(' '),
    ).toEqual([]);
    for (const lazy of ['ssh2', 'node-ssh', 'ora', 'diff', 'yaml']) expect(packages.has(lazy), lazy).toBe(false);
  });
});
