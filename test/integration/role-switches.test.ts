// The role switches reach the roles as the settings layer resolves them (issue 14): each given
// through Jinja in group_vars, through -e, and -e over a group_vars Jinja input, on real lab
// hosts. The proof is the plan the toolkit would apply (--check: nothing is changed): which
// packages the install step would take. A role reading the raw variable would see the text
// "{{ manage_exporter }}", which is truthy, and install what the admin switched off.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, mustOnHost, provision } from './helpers.ts';

let info: LabInfo;
let pull: LabHost;
let push: LabHost;

const EXPORTER = 'golang-github-prometheus-node_exporter';
const SUPPORT = ['supportutils', 'supportutils-plugin-trento'];

function baseVars(): Record<string, unknown> {
  const server = info.server!;
  return {
    agent_web_api_key: 'role-switches-api-key',
    agent_trento_server_url: `http://${info.gateway}:8080`,
    agent_rabbitmq_host: info.gateway,
    agent_rabbitmq_password: 'role-switches-rabbit',
    agent_prometheus_remote_write_url: server.remoteWrite.none,
    agent_prometheus_auth: 'none',
    agent_prometheus_tls_ca_cert: server.hostCaCert,
  };
}

/** The packages --check says it would install on each host (the pull and the push host, or `hosts`). */
async function wouldInstall(groupVars: Record<string, unknown>, extra: string[] = [], hosts = [pull, push]): Promise<Map<string, string[]>> {
  const inv = await iniInventory(
    info,
    hosts.map((host) => ({ host })),
    { ...baseVars(), ...groupVars },
  );
  const run = await provision(['-i', inv, '--check', ...extra]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  return new Map(
    run.report!.hosts.map((h) => [
      h.host,
      (h.changes.find((c) => c.id === 'packages:install')?.details ?? []).filter((d) => d.startsWith('+ package ')).map((d) => d.slice('+ package '.length)),
    ]),
  );
}

beforeAll(async () => {
  info = await freshLab();
  const by = hostsBy(info);
  pull = by.pull[0]!;
  push = by.push[0]!;
});

describe('agent_install_monitoring_dep', () => {
  it('by default the pull host gets node_exporter', async () => {
    expect((await wouldInstall({})).get(pull.name)).toContain(EXPORTER);
  });

  // (The push host, without Alloy, would be refused with it false: the test below.)
  it('false through Jinja in group_vars: no node_exporter', async () => {
    const plans = await wouldInstall({ manage_exporter: false, agent_install_monitoring_dep: '{{ manage_exporter }}' }, [], [pull]);
    expect(plans.get(pull.name)).not.toContain(EXPORTER);
    expect(plans.get(pull.name)).toContain('trento-agent');
  });

  it('false through -e (as JSON): no node_exporter; the text "false" (-e KEY=false) is refused, as the official `when:` reads it as true', async () => {
    const plans = await wouldInstall({}, ['-e', '{"agent_install_monitoring_dep": false}'], [pull]);
    expect(plans.get(pull.name)).not.toContain(EXPORTER);
    expect(plans.get(pull.name)).toContain('trento-agent'); // the plan installs: the absence means something
    const inv = await iniInventory(info, [{ host: pull }], baseVars());
    const text = await provision(['-i', inv, '-e', 'agent_install_monitoring_dep=false', '--check']);
    expect(text.code, text.stdout).toBe(1);
    expect(text.stdout).toMatch(
      /agent_install_monitoring_dep \(from -e argument 1\): is the string "false", which the official playbook's `when:` reads as true/,
    );
  });

  it('false on a SLES 16 host without Alloy: refused before any change, in --check too, naming the switch', async () => {
    const inv = await iniInventory(info, [{ host: push }], baseVars());
    expect(await mustOnHost(info, push.name, 'rpm -q alloy || true')).toBe('package alloy is not installed\n');
    for (const check of [['--check'], []]) {
      const run = await provision(['-i', inv, '-e', '{"agent_install_monitoring_dep": false}', ...check]);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      const host = run.report!.hosts.find((h) => h.host === push.name)!;
      expect(host.status).toBe('failed');
      expect(host.changes.filter((c) => c.applied)).toEqual([]);
      expect(run.stdout).toMatch(/Alloy is not installed \(no \/etc\/sysconfig\/alloy\) and agent_install_monitoring_dep is false/);
    }
    // Nothing was installed or written.
    expect(await mustOnHost(info, push.name, 'rpm -q trento-agent || true; ls -d /etc/alloy /etc/trento/agent.yaml 2>/dev/null; true')).toBe(
      'package trento-agent is not installed\n',
    );
  });

  it('-e over the group_vars input of its Jinja: node_exporter again', async () => {
    const plans = await wouldInstall({ manage_exporter: false, agent_install_monitoring_dep: '{{ manage_exporter }}' }, ['-e', '{"manage_exporter": true}']);
    expect(plans.get(pull.name)).toContain(EXPORTER);
  });
});

describe('supportutils_enabled', () => {
  it('by default both hosts get supportutils and its Trento plugin', async () => {
    const plans = await wouldInstall({});
    for (const h of [pull, push]) expect(plans.get(h.name), h.name).toEqual(expect.arrayContaining(SUPPORT));
  });

  it('"no" through Jinja in group_vars: neither package, on either host', async () => {
    const plans = await wouldInstall({ support_tools: 'no', supportutils_enabled: '{{ support_tools }}' });
    for (const h of [pull, push]) {
      expect(plans.get(h.name), h.name).toContain('trento-agent'); // the plan installs: the absence means something
      for (const p of SUPPORT) expect(plans.get(h.name), h.name).not.toContain(p);
    }
  });

  it('false through -e: neither package', async () => {
    const plans = await wouldInstall({}, ['-e', 'supportutils_enabled=false']);
    for (const h of [pull, push]) {
      expect(plans.get(h.name), h.name).toContain('trento-agent'); // the plan installs: the absence means something
      for (const p of SUPPORT) expect(plans.get(h.name), h.name).not.toContain(p);
    }
  });
});

describe('agent_install_monitoring_dep applied (last: it installs on the pull host)', () => {
  it("false: zypper installs the agent without the node_exporter it recommends (--no-recommends, as the official role's zypper tasks)", async () => {
    const inv = await iniInventory(info, [{ host: pull }], baseVars());
    // The host then fails its node_exporter check (nothing serves): the switch is the admin's.
    await provision(['-i', inv, '-e', '{"agent_install_monitoring_dep": false}']);
    expect(await mustOnHost(info, pull.name, `rpm -q --qf '%{NAME}\\n' trento-agent ${EXPORTER} || true`)).toBe(
      `trento-agent\npackage ${EXPORTER} is not installed\n`,
    );
  });
});
