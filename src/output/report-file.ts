// How every report file (--json, --junit) reaches the disk: one place, so they cannot differ.
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Written to a 0600 temp file beside PATH, then renamed: an existing file (whatever its mode)
 *  is replaced by a 0600 one, never half-written. The text must already be redacted. */
export async function writeReportFile(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
