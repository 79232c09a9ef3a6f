// Fact source "updates" (updates.sh): newer versions the repositories offer (agent_package_state: latest).
import type { FactSource } from '../types.ts';

/** "NAME VERSION" lines (zypper list-updates' name and available-version columns). */
export function parseUpdates(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(/\s+/u);
    if (name && version && name !== 'Name') out[name] = version;
  }
  return out;
}

export const updates: FactSource<'updates'> = {
  name: 'updates',
  parse: (r) => {
    if (!r.has('updates')) return { facts: {} };
    const facts = { updates: parseUpdates(r.get('updates') ?? '') };
    const rc = r.get('updates-rc');
    // 0, or 100 (updates available, as zypper's patch commands say): read
    if (rc === undefined || rc === '0' || rc === '100') return { facts };
    if (rc === '106')
      return { facts, warnings: ['zypper: some repositories could not be refreshed and were skipped (exit 106) while reading the updates they offer'] };
    const why = (r.get('updates-output') ?? '').trim().split('\n').slice(-3).join(' ');
    return {
      facts,
      problems: [
        `zypper list-updates failed (exit ${rc}${rc === '7' ? ': another process holds the package lock' : ''})${why ? `: ${why}` : ''}; ` +
          'agent_package_state: latest cannot know what to upgrade without it; run again when zypper works',
      ],
    };
  },
};
