// The node_exporter role, retired (push hosts). A host the toolkit set up as SLES 15 (pull:
// node_exporter scraped by Trento's Prometheus) that now reports SLES 16 moves to Alloy (push);
// nothing scrapes its node_exporter any more. The one the toolkit installed (its record on the
// host) is stopped and disabled, and removed with --purge; one the admin installed is theirs and
// left exactly as it is (running or not). Used as a role of push hosts (roles/index.ts), after
// Alloy and the agent, so a failure there leaves the old provider running.
import { sh } from '../../../src/exec/command.ts';
import { PACKAGES, UNITS } from '../../../src/facts/paths.ts';
import { installedByToolkit, service } from '../../../src/plan/ops.ts';
import type { RoleTasks, TaskContext } from '../../../src/plan/types.ts';

const RETIRED = { enabled: false, running: false };

export function install(ctx: TaskContext): RoleTasks {
  if (!installedByToolkit(PACKAGES.nodeExporter, ctx.facts)) return { changes: [] };
  return {
    removePackages: ctx.purge ? [PACKAGES.nodeExporter] : [],
    changes: [service(UNITS.nodeExporter, RETIRED, ctx.facts, false)],
    verify: [sh`tp_verify ${'node_exporter (installed by trento-provision, now unused) is stopped'} eval ${`! systemctl is-active --quiet ${UNITS.nodeExporter}`}`],
  };
}

/** Uninstall keeps node_exporter as on a pull host; --purge takes the toolkit's out, as above. */
export function uninstall(ctx: TaskContext): RoleTasks {
  return ctx.purge ? install(ctx) : { changes: [] };
}
