// Dependencies point one way (README, "Layout"): scripts -> run -> roles -> the middle layer
// (plan, render, settings, facts, apply, output, rollout, verify, shell, platform) -> the
// bottom (exec, inventory, util). A file may import its own layer or a lower one, never a
// higher one: the planner knows no role, exec knows no settings.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../lab/paths.ts';

const RANK: [prefix: string, rank: number][] = [
  ['scripts/', 0],
  ['src/run/', 1],
  ['roles/', 2],
  ...['plan', 'render', 'settings', 'facts', 'apply', 'output', 'rollout', 'verify', 'shell', 'cli'].map((d): [string, number] => [`src/${d}/`, 3]),
  ['src/platform.ts', 3],
  ...['exec', 'inventory', 'util'].map((d): [string, number] => [`src/${d}/`, 4]),
];

const rankOf = (file: string) => RANK.find(([prefix]) => file.startsWith(prefix))?.[1];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

it('no file imports a layer above its own', () => {
  const upward: string[] = [];
  for (const file of ['src', 'roles', 'scripts'].flatMap((d) => tsFiles(join(repoRoot, d)))) {
    const from = relative(repoRoot, file);
    const own = rankOf(from);
    if (own === undefined) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'";]*from '(\.[^']+)'/gm)) {
      const to = relative(repoRoot, resolve(dirname(file), m[1]!));
      const target = rankOf(to);
      if (target !== undefined && target < own) upward.push(`${from} -> ${to}`);
    }
  }
  expect(upward).toEqual([]);
});
