// A lock file (O_EXCL) holding the owner's pid, so two `up`/`down` runs on one lab (or two labs
// choosing a network at the same moment) never interleave. A lock whose owner is gone is stale.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, sleep } from './proc.ts';

export interface Lock {
  release(): void;
}

/** The live process holding the lock at `path`, if any. */
export function lockHolder(path: string): number | null {
  try {
    return ownerIn(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** The live process a lock file's text names, if any. */
function ownerIn(text: string): number | null {
  const owner = Number(text.trim());
  return Number.isInteger(owner) && owner > 0 && isAlive(owner) ? owner : null;
}

export async function acquireLock(path: string, what: string, timeoutMs = 120_000): Promise<Lock> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (created(path)) {
      return {
        release() {
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            /* already gone */
          }
        },
      };
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // released just now: try again (removing the name now could remove a lock made since)
    }
    const owner = ownerIn(text);
    if (owner === null) {
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

/** Makes the lock at `path`, holding this process' pid, unless it exists. The pid is written
 *  under another name first and the lock gets its name by link(2), which fails when the name is
 *  taken: another command never reads an empty lock (created, its pid not yet written) and takes
 *  it for a stale one. */
function created(path: string): boolean {
  const pending = `${path}.${process.pid}`;
  writeFileSync(pending, `${process.pid}\n`, { mode: 0o644 });
  try {
    linkSync(pending, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    unlinkSync(pending);
  }
}
