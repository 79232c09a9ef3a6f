// A lock file (O_EXCL) holding the owner's pid, so two `up`/`down` runs on one lab (or two labs
// choosing a network at the same moment) never interleave. A lock whose owner is gone is stale.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, sleep } from './proc.ts';

export interface Lock {
  release(): void;
}

/** The live process holding the lock at `path`, if any. */
export function lockHolder(path: string): number | null {
  try {
    const owner = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(owner) && owner > 0 && isAlive(owner) ? owner : null;
  } catch {
    return null;
  }
}

export async function acquireLock(path: string, what: string, timeoutMs = 120_000): Promise<Lock> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release() {
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // released between our two calls
    }
    if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
      try {
        unlinkSync(path); // stale: its owner died without releasing it
      } catch {
        /* someone else cleaned it */
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: ${path} is held by pid ${owner} (another lab command still running?); wait for it or stop it`);
    }
    await sleep(100);
  }
}
