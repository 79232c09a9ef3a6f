// One validated value per host: the agent.yaml keys and every role switch, each resolved from
// the host's variables as validateHostVars resolves them (defaults, group_vars, Jinja, discovery, -e). The planner hands it to
// the roles, which see only this and the facts: no role reads an inventory variable.
import type { SettingProblem } from '../inventory/errors.ts';
import type { PrometheusMode } from './agent-config.ts';
import type { AgentConfig } from './agent-config.ts';
import { type AllRoleDefaults, loadRoleDefaults } from './defaults.ts';
import type { PlayView } from './discovery.ts';
import {
  agentConfigFor,
  installMonitoringDep,
  type PackageState,
  packageStateFor,
  serverCaPemFor,
  type SupportutilsSettings,
  supportutilsFor,
} from './validate.ts';

export interface HostSettings {
  /** The agent.yaml keys for this host, validated (on uninstall: only the mode). */
  agent: AgentConfig;
  /** agent_install_monitoring_dep: install the mode's metrics provider package. */
  installMonitoringDep: boolean;
  /** supportutils_enabled, supportutils_update_cache. */
  supportutils: SupportutilsSettings;
  /** agent_server_ca_cert as PEM, validated; absent when not set (nothing is done then, as in the official role). */
  serverCaPem?: string;
  /** agent_package_state (--upgrade: latest). */
  packageState: PackageState;
}

/**
 * A host's settings in `mode` (the mode the toolkit deploys there). Errors come with whatever
 * settings could be built; nothing is to be written to a host with errors. Uninstall needs no
 * agent settings, so none are checked then.
 */
export function hostSettingsFor(
  vars: Record<string, unknown>,
  origins: Record<string, string>,
  mode: PrometheusMode,
  { uninstall, defaults = loadRoleDefaults(), play }: { uninstall: boolean; defaults?: AllRoleDefaults; play?: PlayView },
): { settings: HostSettings; errors: SettingProblem[] } {
  const serverCaPem = serverCaPemFor(vars, origins, defaults, play);
  const switches = {
    installMonitoringDep: installMonitoringDep(vars, origins, defaults, play),
    supportutils: supportutilsFor(vars, origins, defaults, play),
    ...(serverCaPem !== undefined ? { serverCaPem } : {}),
    packageState: packageStateFor(vars, origins, defaults, play),
  };
  if (uninstall) return { settings: { agent: { 'prometheus-mode': mode }, ...switches }, errors: [] };
  const { config, errors } = agentConfigFor(vars, origins, mode, defaults, play);
  return { settings: { agent: config, ...switches }, errors };
}
