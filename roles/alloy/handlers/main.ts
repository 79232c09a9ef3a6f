// Handlers of the alloy role. A reload or restart is only a success once Alloy answers ready
// and runs (or no longer runs) Trento's pipeline; otherwise the files are put back.
import { type Command, join, sh } from '../../../src/exec/command.ts';
import { UNITS } from '../../../src/facts/paths.ts';
import type { Handler } from '../../../src/plan/types.ts';

function apply(how: 'reload' | 'restart', expect: 'present' | 'absent', restoreOnFailure: string[]): Command {
  return join([sh`tp_alloy_apply ${how} ${expect}`, ...restoreOnFailure.map((f) => sh` ${f}`)], '');
}

export function alloyHandlers(expect: 'present' | 'absent', restoreOnFailure: string[]): Handler[] {
  return [
    {
      name: 'restart alloy',
      // No cause named: CONFIG_FILE, the trust store or a package upgrade notifies it.
      summary: 'restart alloy.service and check it runs the new configuration',
      script: apply('restart', expect, restoreOnFailure),
      restarts: UNITS.alloy,
    },
    {
      name: 'reload alloy',
      summary: 'reload alloy.service and check it took the new configuration',
      script: apply('reload', expect, restoreOnFailure),
    },
  ];
}
