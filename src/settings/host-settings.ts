// One validated value per host: the agent.yaml keys and every role switch, resolved from the
// host's variables as validateHostVars resolves them (defaults, group_vars, Jinja, discovery,
// -e); the switches from one resolution. The planner hands it to the roles, which see only this
// and the facts: no role reads an inventory variable.
import type { SettingProblem } from '../inventory/errors.ts';
import { ansibleBool } from '../inventory/truthiness.ts';
import type { AgentConfig, PrometheusMode } from './agent-config.ts';
import { type AllRoleDefaults, loadRoleDefaults, type ResolvedVars } from './defaults.ts';
import { type PlayView, resolvedHostVars } from './discovery.ts';
import { serverCaPem } from './server-ca.ts';
import { agentConfigFor, asText } from './validate.ts';

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
  const resolved = resolvedHostVars(vars, origins, defaults, play);
  const serverCaPem = serverCaPemFor(resolved);
  const switches = {
    installMonitoringDep: installMonitoringDep(resolved),
    supportutils: supportutilsFor(resolved),
    ...(serverCaPem !== undefined ? { serverCaPem } : {}),
    packageState: packageStateFor(resolved),
  };
  if (uninstall) return { settings: { agent: { 'prometheus-mode': mode }, ...switches }, errors: [] };
  const { config, errors } = agentConfigFor(vars, origins, mode, defaults, play);
  return { settings: { agent: config, ...switches }, errors };
}

// The role switches, read from the host's variables as resolvedHostVars resolves them (as
// validateHostVars does); invalid values are reported there, and read here as their defaults.

/** agent_install_monitoring_dep with its default from roles/trento_agent/defaults/main.yml. */
export function installMonitoringDep(resolved: ResolvedVars): boolean {
  return ansibleBool(resolved.get('agent_install_monitoring_dep')) ?? true;
}

/** agent_server_ca_cert as the PEM to write (base64 decoded when asked), or undefined when unset or invalid. */
export function serverCaPemFor(resolved: ResolvedVars): string | undefined {
  const value = asText(resolved.get('agent_server_ca_cert'));
  if (!value.ok) return undefined;
  const checked = serverCaPem(value.text, resolved.get('agent_server_ca_cert_as_base64'));
  return checked.ok ? checked.pem : undefined;
}

/** The supportutils role's switches with their defaults (invalid values are reported by validateHostVars). */
export interface SupportutilsSettings {
  /** supportutils_enabled: install supportutils and supportutils-plugin-trento. */
  enabled: boolean;
  /** supportutils_update_cache: zypper refresh before installing them. */
  updateCache: boolean;
}

export function supportutilsFor(resolved: ResolvedVars): SupportutilsSettings {
  return {
    enabled: ansibleBool(resolved.get('supportutils_enabled')) ?? true,
    updateCache: ansibleBool(resolved.get('supportutils_update_cache')) ?? true,
  };
}

export type PackageState = 'present' | 'latest';

/** agent_package_state with its default (invalid values are reported by validateHostVars). */
export function packageStateFor(resolved: ResolvedVars): PackageState {
  return resolved.get('agent_package_state') === 'latest' ? 'latest' : 'present';
}

/** Whether a run upgrades the host's packages (agent_package_state: latest, --upgrade), which an
 *  uninstall never does: the facts then read the repositories' versions and the plan upgrades. */
export function upgradesPackages(state: PackageState, uninstall: boolean): boolean {
  return state === 'latest' && !uninstall;
}
