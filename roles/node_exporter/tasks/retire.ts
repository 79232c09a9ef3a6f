// The node_exporter role, retired (push hosts). A host the toolkit set up as SLES 15 (pull:
// node_exporter scraped by Trento's Prometheus) that now reports SLES 16 moves to Alloy (push);
// nothing scrapes its node_exporter any more. The one the toolkit installed (its record on the
// host) is stopped and disabled, and removed with --purge; one the admin installed is theirs and
// left as it is (running or not; an uninstall puts it back as it was before the toolkit enabled
// or started it, from its record, as on a pull host). Its changes are of the 'retire' phase: they run only
// after Alloy and the agent are proven (handlers done, checks passed), so a host whose new setup
// fails keeps node_exporter serving, and the next run retires it once the new setup is proven.
import { unitCheck } from '../../../src/plan/checks.ts';
import { PACKAGES, UNITS } from '../../../src/facts/paths.ts';
import { adminServiceRestored, installedByToolkit, packagesRemoved, service } from '../../../src/plan/ops.ts';
import type { Change, RoleTasks, TaskContext } from '../../../src/plan/types.ts';

const RETIRED = { enabled: false, running: false };
const stopped = (ctx: TaskContext) => unitCheck('node_exporter (installed by trento-provision, now unused) is stopped', ctx.facts, UNITS.nodeExporter, false);

const afterProof = (c: Change | null): Change | null => c && { ...c, phase: 'retire', summary: `${c.summary} (once Alloy and trento-agent pass their checks)` };

export function install(ctx: TaskContext): RoleTasks {
  if (!installedByToolkit(PACKAGES.nodeExporter, ctx.facts)) return { changes: [] };
  return {
    changes: [
      afterProof(service(UNITS.nodeExporter, RETIRED, ctx.facts, false)),
      afterProof(ctx.purge ? packagesRemoved([PACKAGES.nodeExporter], ctx.facts) : null),
    ],
    retiredChecks: [stopped(ctx)],
  };
}

/** Uninstall keeps node_exporter as on a pull host; --purge takes the toolkit's out with the
 *  rest (nothing new to prove there, so no waiting). */
export function uninstall(ctx: TaskContext): RoleTasks {
  // The admin's node_exporter as it was before the toolkit turned it on, if it did.
  if (!installedByToolkit(PACKAGES.nodeExporter, ctx.facts)) return { changes: [adminServiceRestored(UNITS.nodeExporter, ctx.facts)] };
  if (!ctx.purge) return { changes: [] };
  return {
    removePackages: [PACKAGES.nodeExporter],
    changes: [service(UNITS.nodeExporter, RETIRED, ctx.facts, false)],
    checks: [stopped(ctx)],
  };
}
