// mkdir -p that always ends. Node's `mkdir(path, { recursive: true })` never returns where mkdir(2)
// answers ENOENT for a folder whose parent exists (under /proc or /sys, as an admin's
// control_path_dir could be): it takes ENOENT for "parent missing", makes the parent (EEXIST) and
// tries again, for good.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Makes `path` and the folders above it that are missing (new ones get `mode`); rejects with
 *  mkdir's own error otherwise, once. */
export async function makeFolders(path: string, mode: number): Promise<void> {
  const wanted = resolve(path);
  const chain: string[] = [];
  for (let p = wanted; p !== dirname(p); p = dirname(p)) chain.unshift(p);
  for (const folder of chain) {
    try {
      await mkdir(folder, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
