// Which roles a host gets, in order, by its metrics provider: the one table the planner is
// given (by src/run/plan.ts). The planner itself knows no role, so dependencies point one way:
// run -> roles -> plan.
import type { MetricsProvider } from '../src/platform.ts';
import type { Handler, Role } from '../src/plan/types.ts';
import * as alloyRole from './alloy/tasks/main.ts';
import * as nodeExporterRole from './node_exporter/tasks/main.ts';
import * as nodeExporterRetired from './node_exporter/tasks/retire.ts';
import * as supportutilsRole from './supportutils/tasks/main.ts';
import { rebuildTrustStore, reloadSystemdUnits, restartAgent } from './trento_agent/handlers/main.ts';
import * as agentRole from './trento_agent/tasks/main.ts';

/** Uninstall runs them in reverse. supportutils (the official play's role after the agent) on every host. */
export const ROLES: Record<MetricsProvider, readonly Role[]> = {
  node_exporter: [nodeExporterRole, agentRole, supportutilsRole],
  // A push host may have been a pull host (SLES 15 -> 16): the node_exporter the toolkit put
  // there is retired, last, once Alloy and the agent are wired.
  alloy: [alloyRole, agentRole, supportutilsRole, nodeExporterRetired],
};

/**
 * Handlers that can run even when no change of this run notifies them: an earlier run
 * recorded them as pending (a failed restart, a follow-up that failed after its write, a cut
 * connection).
 */
export const ALWAYS_AVAILABLE_HANDLERS: readonly Handler[] = [reloadSystemdUnits, rebuildTrustStore, restartAgent];
