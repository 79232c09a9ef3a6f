// Where vitest's workers put their labs (test/lab/current.ts): beside the session's main lab, so
// a second session in the same checkout (with a LAB_DIR of its own) never finds, stops or wipes
// the first session's worker labs.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workerLabDir, workerLabDirs } from '../../lab/current.ts';

describe("the workers' labs", () => {
  it('sit beside the main lab: none for worker 1, MAIN-wN for the others', () => {
    expect(workerLabDir('1', '/repo/.lab')).toBeUndefined();
    expect(workerLabDir(undefined, '/repo/.lab')).toBeUndefined();
    expect(workerLabDir('3', '/repo/.lab')).toBe('/repo/.lab-w3');
    expect(workerLabDir('2', '/work/lab-t')).toBe('/work/lab-t-w2');
    // as the lab's own paths take LAB_DIR: a trailing slash changes nothing
    expect(workerLabDir('2', '/work/lab-t/')).toBe('/work/lab-t-w2');
  });

  it("are found beside their own main lab only, never another session's", () => {
    const root = mkdtempSync(join(tmpdir(), 'tp-worker-labs-'));
    for (const name of ['.lab', '.lab-w2', '.lab-w3', 'lab-t', 'lab-t-w2', '.lab-wx', '.lab-w2x', 'lab-t-w', '.lab-bench']) mkdirSync(join(root, name));
    expect(workerLabDirs(join(root, '.lab')).sort()).toEqual([join(root, '.lab-w2'), join(root, '.lab-w3')]);
    expect(workerLabDirs(join(root, 'lab-t'))).toEqual([join(root, 'lab-t-w2')]);
    expect(workerLabDirs(`${join(root, 'lab-t')}/`)).toEqual([join(root, 'lab-t-w2')]);
  });
});
