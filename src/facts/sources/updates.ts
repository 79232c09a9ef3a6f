// Fact source "updates" (updates.sh): newer versions the repositories offer (agent_package_state: latest).
import type { FactSource } from '../types.ts';
import { zypperOutcome } from '../zypper-outcome.ts';

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
    return {
      facts: { updates: parseUpdates(r.get('updates') ?? '') },
      ...zypperOutcome({
        rc: r.get('updates-rc'),
        output: r.get('updates-output'),
        answers: ['100'], // 100: updates available, as zypper's patch commands say
        command: 'zypper list-updates',
        reading: 'the updates they offer',
        without: 'agent_package_state: latest cannot know what to upgrade without it',
      }),
    };
  },
};
