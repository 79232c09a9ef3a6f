// How every report file (--json, --junit) reaches the disk: one place, so they cannot differ.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Written to a 0600 temp file beside PATH, synced, then renamed: an existing file (whatever its
 *  mode) is replaced by a 0600 one, never half-written. The temp name is random, not the pid: in a
 *  container every run may have the same pid, and a killed run's leftover must not block the
 *  next report ('wx' still refuses a name someone planted). The text must already be redacted. */
export async function writeReportFile(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
