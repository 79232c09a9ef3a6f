// Handlers of the node_exporter role: run once at the end of the apply, only when notified.
import { UNITS } from '../../../src/facts/paths.ts';
import { restartAndCheck } from '../../../src/plan/ops.ts';
import type { Handler } from '../../../src/plan/types.ts';

export const restartNodeExporter: Handler = {
  name: 'restart node_exporter',
  summary: `restart ${UNITS.nodeExporter} (its package was upgraded)`,
  script: restartAndCheck(UNITS.nodeExporter),
  restarts: UNITS.nodeExporter,
};
