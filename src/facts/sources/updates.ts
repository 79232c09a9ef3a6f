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
  parse: (r) => ({ facts: r.has('updates') ? { updates: parseUpdates(r.get('updates') ?? '') } : {} }),
};
