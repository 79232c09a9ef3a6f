// The node_exporter role (pull hosts, SLES 15 and Leap 15): the package, the service enabled
// and running on :9100 so Trento's Prometheus can scrape it.
import { PACKAGES, UNITS } from '../../../src/facts/paths.ts';
import { adminService, adminServiceRestored, installedByToolkit, packagesWanted, service } from '../../../src/plan/ops.ts';
import type { RoleTasks, TaskContext } from '../../../src/plan/types.ts';
import { restartNodeExporter } from '../handlers/main.ts';

export function install(ctx: TaskContext): RoleTasks {
  const wanted = packagesWanted(ctx, [PACKAGES.nodeExporter]);
  const installedNow = !ctx.facts.packages[PACKAGES.nodeExporter];
  return {
    installPackages: wanted,
    whenMissing: {
      [PACKAGES.nodeExporter]:
        'enable the channel that ships it (zypper repos, SUSEConnect --status), or set agent_install_monitoring_dep: false and run node_exporter yourself',
    },
    changes: [
      // With agent_install_monitoring_dep=false the admin runs node_exporter; leave it alone.
      wanted.length ? adminService(UNITS.nodeExporter, { enabled: true, running: true }, ctx.facts, installedNow, PACKAGES.nodeExporter) : null,
    ],
    handlers: [restartNodeExporter],
  };
}

export function uninstall(ctx: TaskContext): RoleTasks {
  const purge = ctx.purge && Boolean(ctx.facts.packages[PACKAGES.nodeExporter]);
  // Only the toolkit's own node_exporter (its record on the host) is stopped: one the admin
  // installed is theirs, and its package kept (with a warning); it goes back to how it was before
  // the toolkit enabled or started it (disabled, stopped), as it stays where it was running.
  const ours = purge && installedByToolkit(PACKAGES.nodeExporter, ctx.facts);
  return {
    removePackages: purge ? [PACKAGES.nodeExporter] : [],
    changes: [ours ? service(UNITS.nodeExporter, { enabled: false, running: false }, ctx.facts, false) : adminServiceRestored(UNITS.nodeExporter, ctx.facts)],
  };
}
