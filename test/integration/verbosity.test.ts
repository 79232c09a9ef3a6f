// -v .. -vvvv on real hosts: each level adds its own kind of line, and no level shows a secret
// (the API key, a RabbitMQ password, basic-auth credentials and a sudo password are all set).
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, mustOnHost, provision } from './helpers.ts';

let info: LabInfo;
let inventory: string;
let push: LabHost;
let pull: LabHost;
let SECRETS: Record<string, string>;

beforeAll(async () => {
  info = await freshLab();
  const by = hostsBy(info);
  push = by.push[0]!;
  pull = by.pull[0]!;
  const server = info.server!;
  // The basic-auth password is the lab edge's real one, so the applying run can deliver.
  SECRETS = {
    agent_web_api_key: 'api-key-Vv9-secret',
    agent_rabbitmq_password: 'rabbit-Vv9-secret',
    agent_prometheus_auth_password: server.basicAuth.password,
  };
  inventory = await iniInventory(info, [{ host: push }, { host: pull }], {
    agent_trento_server_url: `http://${info.gateway}:8080`,
    agent_rabbitmq_host: info.gateway,
    agent_prometheus_remote_write_url: server.remoteWrite.basic,
    agent_prometheus_auth: 'basic',
    agent_prometheus_auth_username: server.basicAuth.username,
    agent_prometheus_tls_ca_cert: server.hostCaCert,
    agent_prometheus_scrape_interval: '10s', // Alloy refuses an interval below its 10s scrape timeout
    ansible_become_password: 'sudo-Vv9-secret',
    ...SECRETS,
  });
});

const LEVEL_MARK: [number, RegExp][] = [
  [1, / \| FACTS \| /],
  // No ansible_user in this inventory: OpenSSH's own configuration picks the login user.
  [2, / \| EXEC \| facts script: ssh \(ssh_config or root\)@/],
  [3, / \| OUTPUT \| facts script exited 0/],
  [4, / \| CONNECT \| connection as resolved/],
];

describe('verbosity levels', () => {
  it.each([0, 1, 2, 3, 4])('-%s: the lines of its level and below, none above, no secret', async (level) => {
    const flags = level ? [`-${'v'.repeat(level)}`] : [];
    const run = await provision(['-i', inventory, '--check', '--diff', ...flags]);
    const all = `${run.stdout}\n${run.stderr}`;
    expect(run.code, all).toBe(0);
    for (const [needs, mark] of LEVEL_MARK) {
      if (level >= needs) expect(all).toMatch(mark);
      else expect(all).not.toMatch(mark);
    }
    for (const secret of [...Object.values(SECRETS), 'sudo-Vv9-secret']) expect(all).not.toContain(secret);
    if (level >= 3) expect(all).toMatch(/content:\/etc\/trento\/agent\.yaml: <\d+ bytes, not shown>|file:\/etc\/trento\/agent\.yaml: absent/);
    // The products.d file baseproduct links to, as the facts read it (test -ef, no readlink).
    if (level >= 3) expect(all.match(/baseproduct: SLES(?:_SAP)?\.prod\n/g)).toHaveLength(2);
    if (level >= 4) expect(all).toContain(`address ${push.address}, port ${push.port}, user (ssh_config or root)`);
    // -vvvv runs ssh with -vvv, and its account of the login is shown (as Ansible does); below, not.
    if (level >= 4) expect(all).toMatch(/debug3: .*\n(?:.*\n)*.*Authenticated to /);
    else expect(all).not.toMatch(/debug\d: /);
    // ssh ends its log lines with CR LF (a terminal's line end); shown, they end in LF alone.
    expect(all).not.toContain('\r');
  });

  it('-vvvv applying: the apply script with file contents by label, its exit, still no secret', async () => {
    // Something to write whatever ran before (LAB_REUSE): agent.yaml travels in the apply script.
    await mustOnHost(info, push.name, 'rm -f /etc/trento/agent.yaml');
    const run = await provision(['-i', inventory, '--limit', push.name, '-vvvv']);
    const all = `${run.stdout}\n${run.stderr}`;
    expect(run.code, all).toBe(0);
    expect(all).toMatch(/ \| EXEC \| apply script: ssh \(ssh_config or root\)@/);
    expect(all).toMatch(/<\d+ bytes>/); // agent.yaml and trento.alloy travel as data, shown by size
    expect(all).toMatch(/ \| OUTPUT \| apply script exited 0/);
    for (const secret of [...Object.values(SECRETS), 'sudo-Vv9-secret']) expect(all).not.toContain(secret);
  });
});
