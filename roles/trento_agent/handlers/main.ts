// Handlers of the trento_agent role: run once at the end of the apply, only when notified, or
// when an earlier run recorded them and did not finish them.
import { sh } from '../../../src/exec/command.ts';
import { UNITS } from '../../../src/facts/paths.ts';
import { restartAndCheck } from '../../../src/plan/ops.ts';
import type { Handler } from '../../../src/plan/types.ts';

// The summaries name no cause: a handler runs for any change that notifies it (a file, a drop-in,
// the trust store, a package upgrade), and --check prints the summary as what would run.
export const restartAgent: Handler = {
  name: 'restart trento-agent',
  summary: `restart ${UNITS.agent} and check it runs`,
  script: restartAndCheck(UNITS.agent),
  restarts: UNITS.agent,
};

/** systemd reads the units again: the agent's drop-in (run by the change that writes or removes
 *  it, at once: Change.followUp, the later steps start the unit; a handler when that change was
 *  cut short after its write), a package upgrade's new unit files, a unit found stale. */
export const reloadSystemdUnits: Handler = {
  name: 'reload systemd units',
  summary: 'systemctl daemon-reload (unit files changed or upgraded)',
  script: sh`systemctl daemon-reload`,
};

/** The system trust store rebuilt with the server CA anchor (as reloadSystemdUnits: run by the
 *  anchor's change at once; a handler when that change was cut short after its write). */
export const rebuildTrustStore: Handler = {
  name: 'rebuild trust store',
  summary: 'update-ca-certificates (the server CA anchor changed)',
  script: sh`update-ca-certificates`,
};
