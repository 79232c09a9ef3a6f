// Phase 1: every setting that needs no connection, for every host, before any host is contacted.
import { becomes, settingVariables, transportFor, winningVariable } from '../exec/connection.ts';
import { connectionSettingsErrors, connectionSettingsWarnings } from '../exec/connection-settings.ts';
import type { HostSettingProblem } from '../output/events.ts';
import type { SettingProblem } from '../inventory/errors.ts';
import { connectionVariableTypos } from '../settings/connection-typos.ts';
import { shortSecretWarnings, type usedSecrets } from '../settings/used-secrets.ts';
import { validateHostVars } from '../settings/validate.ts';
import type { PrometheusEndpoint } from '../verify/prometheus-api.ts';
import { verifyEndpointFor } from '../verify/run-proof.ts';
import type { HostRecord, RunContext } from './types.ts';

/** The become method the toolkit runs, by every name Ansible's plugin loader finds it under. */
const isSudo = (method: string) => ['sudo', 'ansible.builtin.sudo', 'ansible.legacy.sudo'].includes(method);

/**
 * Every setting that can be checked without a connection, for every host (all errors at once,
 * before any host is contacted), and the --verify-prometheus endpoint.
 */
export function checkHostlessSettings(
  hosts: HostRecord[],
  used: Map<HostRecord, ReturnType<typeof usedSecrets>>,
  connectionProblems: Map<HostRecord, SettingProblem[]>,
  { options, emit, defaults }: RunContext,
): { ok: boolean; verifyEndpoint?: PrometheusEndpoint } {
  const errors: HostSettingProblem[] = [];
  const error = (e: HostSettingProblem) => errors.push(e);
  for (const h of hosts) {
    for (const p of connectionProblems.get(h) ?? []) error({ host: h.name, ...p });
    if (h.vars.ansible_become_method !== undefined && !isSudo(String(h.vars.ansible_become_method))) {
      error({
        host: h.name,
        variable: 'ansible_become_method',
        origin: h.origins.ansible_become_method ?? 'inventory',
        message: `only sudo is supported, not ${String(h.vars.ansible_become_method)}`,
      });
    } else if (
      h.vars.ansible_become_method === undefined &&
      options.connection.becomeMethod !== undefined &&
      !isSudo(options.connection.becomeMethod) &&
      becomes(h.vars, options.connection)
    ) {
      error({
        host: h.name,
        variable: 'become_method',
        origin: options.connection.becomeMethodOrigin ?? 'ansible.cfg',
        message: `only sudo is supported, not ${options.connection.becomeMethod}`,
      });
    }
    const port = winningVariable(h.vars, settingVariables('port', transportFor(h.vars, options.connection).transport));
    if (port !== undefined && !(/^\d{1,5}$/.test(String(port.value)) && Number(port.value) >= 1 && Number(port.value) <= 65535)) {
      error({
        host: h.name,
        variable: port.variable,
        origin: h.origins[port.variable] ?? 'inventory',
        message: `expected a port number 1-65535, not ${JSON.stringify(String(port.value))}`,
      });
    }
    for (const e of connectionSettingsErrors(h.vars, h.origins, options.connection)) error({ host: h.name, ...e });
    // The connection's, an uninstall's too.
    for (const message of [...connectionSettingsWarnings(h.vars, h.origins, options.connection), ...connectionVariableTypos(h.vars, h.origins)]) {
      emit({ type: 'host-warning', host: h.name, message });
    }
    if (options.uninstall) continue;
    for (const message of shortSecretWarnings(used.get(h) ?? [])) emit({ type: 'host-warning', host: h.name, message });
    for (const e of validateHostVars(h.vars, h.origins, defaults, h.play)) error({ host: h.name, ...e });
  }
  // --verify-prometheus: one set of credentials for the run, from the agent's variables.
  const verify = options.verifyPrometheus && !options.uninstall && !options.check ? verifyEndpointFor(hosts, options.verifyPrometheus, defaults) : undefined;
  for (const e of verify?.errors ?? []) error(e);
  if (errors.length > 0) emit({ type: 'settings-errors', errors });
  return { ok: errors.length === 0, ...(verify?.endpoint ? { verifyEndpoint: verify.endpoint } : {}) };
}
