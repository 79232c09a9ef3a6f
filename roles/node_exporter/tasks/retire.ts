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
import { adminServiceRestored, installedByToolkit, packagesRemoved, service, unitPrior } from '../../../src/plan/ops.ts';
import type { Change, RoleTasks, TaskContext } from '../../../src/plan/types.ts';

const RETIRED = { enabled: false, running: false };
const stopped = (ctx: TaskContext) => unitCheck('node_exporter (installed by trento-provision, now unused) is stopped', ctx.facts, UNITS.nodeExporter, false);

const afterProof = (c: Change | null): Change | null => c && { ...c, phase: 'retire', summary: `${c.summary} (once Alloy and trento-agent pass their checks)` };

export function install(ctx: TaskContext): RoleTasks {
  if (!installedByToolkit(PACKAGES.nodeExporter, ctx.facts)) return { changes: [], warnings: adminNodeExporterLeftOn(ctx) };
  return {
    changes: [
      afterProof(service(UNITS.nodeExporter, RETIRED, ctx.facts, false)),
      afterProof(ctx.purge ? packagesRemoved([PACKAGES.nodeExporter], ctx.facts) : null),
    ],
    retiredChecks: [stopped(ctx)],
  };
}

/**
 * The admin's node_exporter stays as it is (issue 16), but one they kept off, turned on by the
 * toolkit for Trento (its units record), now serves on :9100 for nobody: the admin is told, every
 * run, until they decide (the record goes when an uninstall puts it back, or the package goes).
 */
function adminNodeExporterLeftOn(ctx: TaskContext): string[] {
  const prior = unitPrior(ctx.facts, UNITS.nodeExporter);
  const fact = ctx.facts.units[UNITS.nodeExporter];
  if (!prior || prior.running || !ctx.facts.packages[PACKAGES.nodeExporter] || fact?.state !== 'active') return [];
  return [
    `${UNITS.nodeExporter} was off before trento-provision turned it on for Trento's pull mode (${prior.line}, its record on the host); on SLES 16 Alloy has taken over and nothing of Trento scrapes it, but it is your node_exporter and stays running: stop and disable it if nothing else uses it (an --uninstall also puts it back as it was)`,
  ];
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
