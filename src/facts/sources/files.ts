// Fact source "files" (files.sh): the managed files and the toolkit's own records on the host.
// A link, another kind of file or an oversized file is a problem that fails the host, naming it
// (one the toolkit touches only under some settings: when the plan touches it, src/plan/plan.ts).
import { createHash } from 'node:crypto';
import { FILES_TOUCHED_BY_SETTING, PATHS } from '../paths.ts';
import type { FactSource, FileFact } from '../types.ts';

function parseFile(path: string, value: string, content: string | undefined): FileFact | string {
  if (value === 'absent') return { path, exists: false };
  const [first = '', owner, group] = value.split('\n');
  const [kind, ...rest] = first.split(' ');
  switch (kind) {
    case 'regular': {
      // "regular MODE SIZE SHA256\nOWNER\nGROUP" (a name may hold a space); SHA256 "-": read once
      // without following a link (a file in a folder a service account writes to), hashed here
      // from what was read.
      const [mode, , hashed] = rest;
      const sha256 = hashed === '-' && content !== undefined ? createHash('sha256').update(content, 'utf8').digest('hex') : hashed;
      return { path, exists: true, owner, group, mode, sha256, ...(content !== undefined ? { content } : {}) };
    }
    case 'unreadable':
      return `${path} is there but could not be read (sha256sum failed: an I/O error, a root-squashed NFS mount, a security module's denial); make it readable to root, then run again`;
    case 'changed':
      return `${path} changed while it was read (a link or another kind of file put in its place): check what writes in its folder, then run again`;
    case 'symlink':
      return `${path} is a symbolic link to ${rest.join(' ')}; trento-provision neither reads nor writes through links: replace it with a regular file (or remove it) and run again`;
    case 'toobig':
      return `${path} is ${rest[0]} bytes, more than a file trento-provision manages can be; check what wrote it, remove it and run again`;
    case 'other':
      return `${path} is a ${rest.join(' ')}, not a regular file; remove it and run again`;
    default:
      return `${path}: unexpected facts line "${value.slice(0, 100)}"`;
  }
}

const lines = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

export const files: FactSource<'files' | 'record' | 'leftovers' | 'leftoversLive' | 'agentLeftovers'> = {
  name: 'files',
  parse: (r) => {
    const found: Record<string, FileFact> = {};
    const problems: string[] = [];
    for (const [key, value] of r) {
      if (!key.startsWith('file:')) continue;
      const path = key.slice(5);
      const fact = parseFile(path, value, r.get(`content:${path}`));
      const marked = r.get(`marked:${path}`);
      if (typeof fact !== 'string') found[path] = marked === undefined ? fact : { ...fact, marked: marked === 'yes' };
      else if (FILES_TOUCHED_BY_SETTING.includes(path)) found[path] = { path, exists: true, unusable: fact };
      else problems.push(fact);
    }
    const record = (name: string) => lines(found[`${PATHS.stateDir}/${name}`]?.content);
    return {
      facts: {
        files: found,
        record: { packages: record('packages'), pendingHandlers: record('pending-handlers'), files: record('files'), units: record('units') },
        leftovers: lines(r.get('leftovers')).sort(),
        ...(r.get('leftovers-live') === 'yes' ? { leftoversLive: true } : {}),
        ...(r.get('agent-leftovers') ? { agentLeftovers: lines(r.get('agent-leftovers')).sort() } : {}),
      },
      problems,
    };
  },
};
