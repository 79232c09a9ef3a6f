// How every report file (--json, --junit) reaches the disk: one place, so they cannot differ.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Why a report cannot be written at PATH, or undefined: asked before any host is touched, so a
 * missing folder or a folder given as the file is a usage error, not a report lost after the
 * rollout ran.
 */
export function reportPathProblem(path: string): string | undefined {
  const folder = dirname(path);
  try {
    if (statSync(path).isDirectory()) return 'is a folder; name a file in it';
  } catch {
    // not there yet: the report makes it
  }
  try {
    if (!statSync(folder).isDirectory()) return `${folder} is not a folder`;
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `its folder ${folder} does not exist; create it first` : `its folder ${folder} cannot be written (${code})`;
  }
  return undefined;
}

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
    // The new name itself survives a crash right after the run only once the folder is synced.
    const folder = await open(dirname(path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } finally {
    await rm(tmp, { force: true });
  }
}
