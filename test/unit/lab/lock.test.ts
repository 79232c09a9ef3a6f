// The lab's lock (test/lab/lock.ts): one `up`/`down` at a time per lab, and one lab choosing a
// network at a time. Real processes compete for it; a dead owner's lock is taken over.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockHolder } from '../../lab/lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('../../lab/lock.ts', import.meta.url));

/** A pid no process has: one that has just exited. */
const deadPid = () => Number(execFileSync('/bin/sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());

describe("the lab's lock", () => {
  it('is held by one command at a time: another waits, then names the holder when its time is up', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tp-lock-')), 'lab.lock');
    const lock = await acquireLock(path, 'lab A');
    expect(lockHolder(path)).toBe(process.pid);
    await expect(acquireLock(path, 'lab B', 300)).rejects.toThrow(`lab B: ${path} is held by pid ${process.pid}`);
    lock.release();
    expect(lockHolder(path)).toBeNull();
    (await acquireLock(path, 'lab C', 300)).release();
  });

  it('takes over a lock whose owner is gone, or that holds no pid (a run killed at the wrong moment by an older version)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-lock-'));
    for (const [name, content] of [
      ['dead', `${deadPid()}\n`],
      ['empty', ''],
    ]) {
      const path = join(dir, name!);
      writeFileSync(path, content!);
      expect(lockHolder(path)).toBeNull();
      const lock = await acquireLock(path, name!, 2_000);
      expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
      lock.release();
    }
  });

  it('six processes racing for it never hold it at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-lock-race-'));
    const path = join(dir, 'lab.lock');
    const log = join(dir, 'log');
    writeFileSync(log, '');
    // Each: take the lock, log its start, hold it a little, log its end, release.
    const program = `
      import { appendFileSync } from 'node:fs';
      import { acquireLock } from ${JSON.stringify(LOCK_MODULE)};
      const lock = await acquireLock(${JSON.stringify(path)}, 'racer', 60_000);
      appendFileSync(${JSON.stringify(log)}, 'start ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 30));
      appendFileSync(${JSON.stringify(log)}, 'end ' + process.pid + '\\n');
      lock.release();
    `;
    const racers = Array.from(
      { length: 6 },
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { stdio: 'inherit' });
          child.on('close', resolve);
        }),
    );
    expect(await Promise.all(racers)).toEqual([0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(12);
    // every start is followed by the end of the same process: no two ever held it together
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^start \d+$/);
      expect(lines[i + 1]).toBe(lines[i]!.replace('start', 'end'));
    }
    expect(lockHolder(path)).toBeNull();
  });
});
