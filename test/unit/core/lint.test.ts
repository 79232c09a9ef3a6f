// The tree is clean for the linter and the formatter (Biome, configured once in biome.jsonc):
// `npm run lint` in CI, as a test, so CI's `npm test` fails on a lint error or an unformatted
// file and says which. `npm run format` fixes formatting.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { repoRoot } from '../../lab/paths.ts';

it('biome ci: no lint diagnostic, every file formatted', () => {
  const r = spawnSync(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'ci', '--colors=off', '.'], { cwd: repoRoot, encoding: 'utf8' });
  expect(r.status, `${r.stdout}${r.stderr}`.slice(-6000)).toBe(0);
}, 60_000);
