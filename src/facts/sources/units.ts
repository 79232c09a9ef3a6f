// Fact source "units" (units.sh): the toolkit's units, running and enabled or not.
import type { FactSource, UnitFact } from '../types.ts';

/** `systemctl show -p Id,ActiveState,UnitFileState A B C`: one block per unit, blank-line separated
 *  (one call for every unit: each systemctl call costs the host a process start). */
export function parseUnits(text: string): Record<string, UnitFact> {
  const units: Record<string, UnitFact> = {};
  for (const block of text.split(/\n\s*\n/)) {
    const props = new Map(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const id = props.get('Id');
    if (id) units[id] = { active: props.get('ActiveState') === 'active', enabled: props.get('UnitFileState') || 'not-found' };
  }
  return units;
}

export const units: FactSource<'units'> = {
  name: 'units',
  parse: (r) => ({ facts: { units: parseUnits(r.get('units') ?? '') } }),
};
