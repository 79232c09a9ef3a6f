// Which lab a test process uses: LAB_DIR (set by global-setup.ts for worker 1, by
// worker-lab.ts for the others), else the repository's own.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { LabInfo } from './inventory.ts';
import { repoRoot } from './paths.ts';

/**
 * The lab folder of vitest worker `poolId` beside the session's main lab `mainLab` (`MAIN-wN`:
 * `.lab-w2` for the repository's lab); undefined for worker 1, which uses the main lab. Beside the
 * session's lab, never the checkout's: a second session in the same checkout with a LAB_DIR of its
 * own stopped and wiped the first one's worker labs under its running tests.
 */
export function workerLabDir(poolId: string | undefined, mainLab: string): string | undefined {
  const n = Number(poolId ?? '1');
  return Number.isInteger(n) && n > 1 ? `${resolve(mainLab)}-w${n}` : undefined;
}

/** Every worker lab folder an earlier run of `mainLab`'s session left (to wipe before a run, stop after it). */
export function workerLabDirs(mainLab: string): string[] {
  const main = resolve(mainLab);
  const prefix = `${basename(main)}-w`;
  return readdirSync(dirname(main))
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => join(dirname(main), name));
}

/** lab.json of the lab this process uses. */
export function currentLab(): LabInfo {
  const dir = process.env.LAB_DIR ?? join(repoRoot, '.lab');
  return JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabInfo;
}
