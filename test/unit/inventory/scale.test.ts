// A fleet-sized inventory (bench/inventory-scale.ts: 10,000 hosts in SAP systems, product and
// datacenter groups, group_vars/, host_vars/ for 1 % of hosts) loads completely and the same in
// INI and YAML. Correctness only: how long it takes is the benchmark's business (bench/run.ts
// --inventory-only), never a test's.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateInventories } from '../../../bench/inventory-scale.ts';
import { loadInventory } from '../../../src/inventory/index.ts';

const N = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'inventory-scale-'));
const dirs = generateInventories(dir, N);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Each format is loaded once for the whole file (the suite stays fast).
const loaded = { ini: loadInventory(dirs.ini), 'ini-hosts-first': loadInventory(dirs['ini-hosts-first']), yaml: loadInventory(dirs.yaml) };

describe(`a generated ${N}-host inventory`, () => {
  it.each(['ini', 'ini-hosts-first', 'yaml'] as const)('%s: every host, its groups and its variables', async (format) => {
    const inv = await loaded[format];
    expect(inv.hosts.size).toBe(N);
    // (hosts listed above the first INI section and grouped below it left `ungrouped`)
    expect(inv.groups.get('ungrouped')?.hosts ?? []).toEqual([]);
    expect(inv.groups.get('sap_systems')!.children).toHaveLength(N / 200);
    expect(inv.groups.get('dc4')!.hosts).toHaveLength(N / 4);

    // Host 0: first SAP system, a HANA node, SLES 15 SP5, dc1, with its own host_vars file.
    const first = inv.hosts.get('s001-hana000.example.com')!;
    expect(first.groups).toEqual(['all', 'agents', 'datacenters', 'sap_systems', 'dc1', 'sap_s001', 'sles_15_sp5']);
    expect(first.vars).toMatchObject({
      ansible_host: '10.100.0.1',
      sap_role: 'hana',
      sap_sid: 'S001',
      agent_rabbitmq_host: 'rabbit.dc1.example.com',
      agent_log_level: 'debug',
      trento_server_name: 'trento.example.com',
    });
    expect(String(first.vars.ansible_port)).toBe('2222');

    // The last host: SAP system 50, an application server, SLES for SAP 15 SP6, dc4, no host_vars.
    const last = inv.hosts.get('s050-app199.example.com')!;
    expect(last.vars).toMatchObject({ ansible_host: '10.100.39.94', sap_role: 'app', sap_sid: 'S050', agent_rabbitmq_host: 'rabbit.dc4.example.com' });
    expect(last.vars).not.toHaveProperty('ansible_port');
    expect(last.groups).toContain('sles_sap_15_sp6');

    // group_vars/sles_16_0.yml reaches the SLES 16 hosts only.
    expect(inv.hosts.get('s001-hana004.example.com')!.vars.agent_prometheus_mode).toBe('push');
    expect(first.vars).not.toHaveProperty('agent_prometheus_mode');
  });

  it.each(['ini', 'ini-hosts-first'] as const)('%s and YAML give every host the same variables', async (format) => {
    const [ini, yaml] = await Promise.all([loaded[format], loaded.yaml]);
    expect([...yaml.hosts.keys()].sort()).toEqual([...ini.hosts.keys()].sort());
    const plain = (v: unknown) => JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
    const differing = [...ini.hosts.values()].filter(
      (h) => plain(h.vars) !== plain(yaml.hosts.get(h.name)!.vars) || plain([...h.groups].sort()) !== plain([...yaml.hosts.get(h.name)!.groups].sort()),
    );
    expect(differing.map((h) => h.name)).toEqual([]);
  });
});
