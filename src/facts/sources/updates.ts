// Fact source "updates" (updates.sh): newer versions the repositories offer (agent_package_state: latest).
import type { FactSource } from '../types.ts';
import { zypperOutcome } from '../zypper-outcome.ts';

/** "NAME VERSION" lines (zypper list-updates' name and available-version columns). */
export function parseUpdates(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(/\s+/u);
    if (name && version && name !== '?') out[name] = version;
  }
  return out;
}

/** updates.sh's "? HEADER" line: the table had no Name or no Available Version column. */
function unknownColumns(text: string): string[] {
  const header = text.startsWith('? ') ? text.slice(2).split('\n')[0] : undefined;
  return header === undefined
    ? []
    : [
        `zypper list-updates printed a table without the columns "Name" and "Available Version" (its header: ${header}); agent_package_state: latest cannot know what to upgrade from it: set agent_package_state: present, or upgrade the packages with zypper yourself`,
      ];
}

export const updates: FactSource<'updates'> = {
  name: 'updates',
  parse: (r) => {
    if (!r.has('updates')) return { facts: {} };
    const text = r.get('updates') ?? '';
    const outcome = zypperOutcome({
      rc: r.get('updates-rc'),
      output: r.get('updates-output'),
      answers: ['100'], // 100: updates available, as zypper's patch commands say
      command: 'zypper list-updates',
      reading: 'the updates they offer',
      without: 'agent_package_state: latest cannot know what to upgrade without it',
    });
    const problems = [...(outcome.problems ?? []), ...unknownColumns(text)];
    return { facts: { updates: parseUpdates(text) }, ...outcome, ...(problems.length ? { problems } : {}) };
  },
};
