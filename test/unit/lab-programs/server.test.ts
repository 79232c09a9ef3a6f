// The lab's server side (test/lab/server.ts): what it writes, without starting anything.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { labPaths } from '../../lab/paths.ts';
import { agentIdsFromAgent, EDGE_PORTS, isPullProduct, nginxConf, prometheusYml, serverPaths, targetsJson } from '../../lab/server.ts';
import { labNet, type HostRecord } from '../../lab/state.ts';

const host = (name: string, product: string, index: number): HostRecord => ({
  name,
  product,
  index,
  address: `10.77.0.${10 + index}`,
  machineId: `${index}`.repeat(32).slice(0, 32),
  sudoUsers: [],
});
const uuid5 = (machineId: string) =>
  execFileSync('python3', ['-c', 'import uuid,sys; print(uuid.uuid5(uuid.UUID("fb92284e-aa5e-47f6-a883-bf9469e7a0dc"), sys.argv[1].strip()))', machineId], {
    encoding: 'utf8',
  }).trim();

describe('lab server side', () => {
  it('lists the pull hosts like Trento Web targets API: address:9100, agentID (from `trento-agent id`), exporter_name, hostname', async () => {
    const hosts = [
      host('sles15sp4-01', 'sles-15-sp4', 1),
      host('sles16-01', 'sles-16.0', 2),
      host('leap156-01', 'opensuse-leap-15.6', 3),
      host('sap15sp6-01', 'sles-sap-15-sp6', 4),
      host('sles12sp5-01', 'sles-12-sp5', 5),
      host('micro62-01', 'sl-micro-6.2', 6),
    ];
    const ids = await agentIdsFromAgent(hosts);
    expect([...ids.keys()].sort()).toEqual(['leap156-01', 'sap15sp6-01', 'sles15sp4-01']);
    for (const h of hosts.filter((x) => ids.has(x.name))) expect(ids.get(h.name)).toBe(uuid5(h.machineId));
    expect(() => targetsJson(hosts, new Map())).toThrow(/no agent ID for sles15sp4-01/);
    const groups = JSON.parse(targetsJson(hosts, ids)) as Array<{ targets: string[]; labels: Record<string, string> }>;
    expect(groups.map((g) => g.labels.hostname)).toEqual(['sles15sp4-01', 'leap156-01', 'sap15sp6-01']);
    expect(groups[0]).toEqual({
      targets: ['10.77.0.11:9100'],
      labels: { agentID: uuid5(hosts[0]!.machineId), exporter_name: 'node_exporter', hostname: 'sles15sp4-01' },
    });
    expect(isPullProduct('sles-16.0')).toBe(false);
    expect(isPullProduct('sles-15-sp7')).toBe(true);
  }, 120_000); // three Python starts of the agent program: slow on a loaded 2-core machine

  it('nginx: one TLS server per auth method on the gateway, all proxying to Prometheus remote write', () => {
    const sp = serverPaths(labPaths('/tmp/lab-x'));
    const conf = nginxConf(sp, labNet(3), { username: 'trento', password: 'pw', bearerToken: 'tok' });
    for (const port of Object.values(EDGE_PORTS)) expect(conf).toContain(`listen 10.80.0.1:${port} ssl;`);
    expect(conf.match(/location = \/prometheus\/api\/v1\/write/g)).toHaveLength(4);
    expect(conf.match(/proxy_pass http:\/\/10\.80\.0\.1:9090\/api\/v1\/write;/g)).toHaveLength(4);
    expect(conf).toContain(`auth_basic_user_file ${sp.htpasswd};`);
    expect(conf).toContain('if ($http_authorization != "Bearer tok")');
    expect(conf).toContain('ssl_verify_client on;');
    expect(prometheusYml(sp)).toMatch(/scrape_interval: 15s[\s\S]*file_sd_configs:[\s\S]*node_exporter\.json/);
  });
});
