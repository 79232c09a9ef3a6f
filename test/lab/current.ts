// Which lab a test process uses: LAB_DIR (set by global-setup.ts for worker 1, by
// worker-lab.ts for the others), else the repository's own.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo } from './inventory.ts';
import { repoRoot } from './paths.ts';

/** The lab folder of vitest worker `poolId`: undefined for worker 1 (the repository's lab). */
export function workerLabDir(poolId: string | undefined): string | undefined {
  const n = Number(poolId ?? '1');
  return Number.isInteger(n) && n > 1 ? join(repoRoot, `.lab-w${n}`) : undefined;
}

/** Every worker lab folder an earlier run left (to wipe before a run, stop after it). */
export function workerLabDirs(): string[] {
  return readdirSync(repoRoot)
    .filter((name) => /^\.lab-w\d+$/.test(name))
    .map((name) => join(repoRoot, name));
}

/** lab.json of the lab this process uses. */
export function currentLab(): LabInfo {
  const dir = process.env.LAB_DIR ?? join(repoRoot, '.lab');
  return JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabInfo;
}
