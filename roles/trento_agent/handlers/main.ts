// Handlers of the trento_agent role: run once at the end of the apply, only when notified.
import { UNITS } from '../../../src/facts/paths.ts';
import { restartAndCheck } from '../../../src/plan/ops.ts';
import type { Handler } from '../../../src/plan/types.ts';

export const restartAgent: Handler = {
  name: 'restart trento-agent',
  summary: `restart ${UNITS.agent} (its configuration changed)`,
  script: restartAndCheck(UNITS.agent),
  restarts: UNITS.agent,
};
