// Fact source "units" (units.sh): the toolkit's units, running and enabled or not.
import { UNITS } from '../paths.ts';
import type { FactSource, UnitFact } from '../types.ts';

/** `systemctl show -p Id,ActiveState,UnitFileState,NeedDaemonReload A B C`: one block per unit, blank-line separated
 *  (one call for every unit: each systemctl call costs the host a process start). */
export function parseUnits(text: string): Record<string, UnitFact> {
  const units: Record<string, UnitFact> = {};
  for (const block of text.split(/\n\s*\n/)) {
    const props = new Map(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const id = props.get('Id');
    if (id) {
      units[id] = {
        state: props.get('ActiveState') || 'inactive',
        enabled: props.get('UnitFileState') || 'not-found',
        ...(props.get('NeedDaemonReload') === 'yes' ? { needsReload: true as const } : {}),
      };
    }
  }
  return units;
}

/** The unit runs (a unit that is not loaded does not): as `systemctl is-active` answers 0,
 *  also while it reloads. */
export const unitRunning = (fact: UnitFact | undefined): boolean => fact?.state === 'active' || fact?.state === 'reloading' || fact?.state === 'refreshing';

/** The unit has no process and systemd starts none on its own: inactive or failed. One waiting
 *  for its Restart= (activating, sub-state auto-restart) or still stopping is not: it comes back,
 *  or is going, and needs a `systemctl stop`. As tp_unit_stopped (src/apply/lib.sh) reads it. */
export const unitStopped = (fact: UnitFact | undefined): boolean => !fact || fact.state === 'inactive' || fact.state === 'failed';

export const units: FactSource<'units'> = {
  name: 'units',
  parse: (r) => {
    const failed = r.get('units-failed');
    // A system not booted with systemd (a container, a build machine) has no unit states to read:
    // nothing runs, as before; any other failure leaves them unknown.
    if (failed !== undefined && /not been booted with systemd/.test(failed)) return { facts: { units: {} } };
    if (failed !== undefined) {
      const [code, ...why] = failed.split(' ');
      return {
        facts: { units: {} },
        problems: [
          `systemctl show failed (exit ${code}${why.length ? `: ${why.join(' ')}` : ''}; systemd or D-Bus not answering?): the state of ${Object.values(UNITS).join(', ')} cannot be known; check 'systemctl status' on the host and run again`,
        ],
      };
    }
    const text = r.get('units') ?? '';
    const found = parseUnits(text);
    // systemctl answers in the order it was asked (units.sh asks for UNITS in order): a unit
    // known by another name (an alias) is its block's, not missing on every run.
    const blocks = text.split(/\n\s*\n/);
    Object.values(UNITS).forEach((name, i) => {
      const block = found[name] ? undefined : Object.values(parseUnits(blocks[i] ?? ''))[0];
      if (block) found[name] = block;
    });
    return { facts: { units: found } };
  },
};
