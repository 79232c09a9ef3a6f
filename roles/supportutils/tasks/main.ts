// The supportutils role: SUSE's support tooling (supportconfig) and Trento's plugin for it, as
// the official play installs them on every agent host (supportutils_enabled, default true).
// Uninstall follows the official cleanup: the plugin is Trento's and goes; supportutils is
// general tooling and stays unless --purge. Either only when the toolkit installed it
// (its record on the host): a package the admin had is never removed.
import { PACKAGES } from '../../../src/facts/paths.ts';
import type { RoleTasks, TaskContext } from '../../../src/plan/types.ts';

const SKIP = "or set supportutils_enabled: false to leave SUSE's support tooling out";

export function install(ctx: TaskContext): RoleTasks {
  if (!ctx.settings.supportutils.enabled) return { changes: [] };
  return {
    installPackages: [PACKAGES.supportutils, PACKAGES.supportutilsPlugin],
    whenMissing: {
      [PACKAGES.supportutils]: `enable the base system channel (SLES: the Basesystem module; zypper repos, SUSEConnect --status), ${SKIP}`,
      [PACKAGES.supportutilsPlugin]: `enable the channel that ships trento-agent (SLES for SAP: the SAP Applications module; zypper repos, SUSEConnect --status), ${SKIP}`,
    },
    refreshBeforeInstall: ctx.settings.supportutils.updateCache,
    changes: [],
  };
}

export function uninstall(ctx: TaskContext): RoleTasks {
  return {
    removePackages: [
      ...(ctx.facts.packages[PACKAGES.supportutilsPlugin] ? [PACKAGES.supportutilsPlugin] : []),
      ...(ctx.purge && ctx.facts.packages[PACKAGES.supportutils] ? [PACKAGES.supportutils] : []),
    ],
    changes: [],
  };
}
