// Fact source "folders" (folders.sh): on uninstall, the folders trento-provision may have made for
// its files (PURGED_FOLDERS), each with its owning package and what it holds, for --purge to
// remove one once the files the plan removes were all it held.
import type { FactSource, FolderFact } from '../types.ts';

export const folders: FactSource<'folders'> = {
  name: 'folders',
  parse: (r) => {
    const found: Record<string, FolderFact> = {};
    for (const [key, value] of r) {
      if (!key.startsWith('folder:')) continue;
      const [owner = '?', ...entries] = value.split('\n');
      // '-': no package owns it; '?': rpm did not say (no rpm, a damaged database): as if one did
      found[key.slice('folder:'.length)] = { ownedByPackage: owner !== '-', entries: entries.filter(Boolean).sort() };
    }
    return { facts: { folders: found } };
  },
};
