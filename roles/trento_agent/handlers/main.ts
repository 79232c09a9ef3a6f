// Handlers of the trento_agent role: run once at the end of the apply, only when notified.
import { sh } from '../../../src/exec/command.ts';
import { UNITS } from '../../../src/facts/paths.ts';
import type { Handler } from '../../../src/plan/types.ts';

export const restartAgent: Handler = {
  name: 'restart trento-agent',
  summary: `restart ${UNITS.agent} (its configuration changed)`,
  // is-active after a short wait: a unit that dies at once must not be reported as restarted.
  script: sh`systemctl restart ${UNITS.agent} && sleep 0.5 && systemctl is-active --quiet ${UNITS.agent} || { echo ${`${UNITS.agent} is not running after the restart; see journalctl -u ${UNITS.agent}`} >&2; false; }`,
};
