// The fork pool: at most `limit` items at once, and one item's unexpected error never stops the
// others (the run's rule: one host's failure never stops the others).
import { describe, expect, it } from 'vitest';
import { forEachLimit } from '../../../src/util/pool.ts';

describe('forEachLimit', () => {
  it('runs every item, at most limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimit(
      [1, 2, 3, 4, 5, 6, 7],
      3,
      async (n) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        done.push(n);
        running--;
      },
      () => expect.unreachable(),
    );
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('an item that throws goes to onError alone; the pool never rejects and the other items finish', async () => {
    const done: string[] = [];
    const failed: [string, string][] = [];
    await forEachLimit(
      ['a', 'boom', 'c', 'd'],
      2,
      async (item) => {
        await new Promise((r) => setTimeout(r, item === 'boom' ? 1 : 10));
        if (item === 'boom') throw new Error('ENOSPC: no space left on device');
        done.push(item);
      },
      (item, error) => failed.push([item, (error as Error).message]),
    );
    expect(failed).toEqual([['boom', 'ENOSPC: no space left on device']]);
    expect(done.sort()).toEqual(['a', 'c', 'd']);
  });
});
