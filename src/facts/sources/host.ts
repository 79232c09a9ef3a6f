// Fact source "host" (host.sh): the product, the machine, the user, the tools.
import type { FactSource } from '../types.ts';

/** Parses os-release (shell-style KEY=value lines, quoted or not, comments ignored). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([\\"$`])/g, '$1');
    }
    out[m[1]!] = value;
  }
  return out;
}

export const host: FactSource<'osRelease' | 'baseProduct' | 'machineId' | 'hostname' | 'uid' | 'tools' | 'applyGeneration'> = {
  name: 'host',
  parse: (r) => ({
    facts: {
      osRelease: parseOsRelease(r.get('os-release') ?? ''),
      baseProduct: r.get('baseproduct') ?? '',
      machineId: r.get('machine-id') ?? '',
      hostname: r.get('hostname') ?? '',
      uid: Number(r.get('uid') ?? NaN),
      tools: new Set((r.get('tools') ?? '').split(' ').filter(Boolean)),
      applyGeneration: r.get('apply-generation') ?? '',
    },
  }),
};
