// hostSettingsFor: one validated value per host, the agent.yaml keys and every role switch,
// each switch resolved as Ansible would (defaults, Jinja over other variables, truthy words).
import { describe, expect, it } from 'vitest';
import { hostSettingsFor } from '../../../src/settings/host-settings.ts';
import { BASE_VARS, GROUP } from './inventory-vars.ts';

const base = BASE_VARS;
const settingsOf = (changes: Record<string, unknown>, mode: 'pull' | 'push' = 'pull', uninstall = false) => {
  const vars = { ...base, ...changes };
  return hostSettingsFor(vars, Object.fromEntries(Object.keys(vars).map((k) => [k, GROUP])), mode, { uninstall });
};

describe('hostSettingsFor', () => {
  it("the official roles' defaults: exporter installed, supportutils on with a refresh, packages present", () => {
    const { settings, errors } = settingsOf({});
    expect(errors).toEqual([]);
    expect(settings).toMatchObject({ installMonitoringDep: true, supportutils: { enabled: true, updateCache: true }, packageState: 'present' });
    expect(settings.serverCaPem).toBeUndefined();
    expect(settings.agent['api-key']).toBe('api-KEY-123');
  });

  it('each switch through Jinja over another variable, with Ansible truthy words', () => {
    const { settings, errors } = settingsOf({
      // a boolean through Jinja stays one, as in Ansible (a "no" string would be true for the official `when:`)
      manage: false,
      agent_install_monitoring_dep: '{{ manage }}',
      support: 'off',
      supportutils_enabled: '{{ support }}',
      refresh: 0,
      supportutils_update_cache: '{{ refresh }}',
      state: 'latest',
      agent_package_state: '{{ state }}',
    });
    expect(errors).toEqual([]);
    expect(settings).toMatchObject({ installMonitoringDep: false, supportutils: { enabled: false, updateCache: false }, packageState: 'latest' });
  });

  it('agent errors come back with the settings; uninstall checks no agent setting', () => {
    expect(settingsOf({ agent_web_api_key: undefined }).errors.map((e) => e.variable)).toContain('agent_web_api_key');
    const un = settingsOf({ agent_web_api_key: undefined }, 'push', true);
    expect(un.errors).toEqual([]);
    expect(un.settings.agent).toEqual({ 'prometheus-mode': 'push' });
  });
});
