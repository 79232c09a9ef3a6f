// Site templates (Ansible's template search path): templates/NAME next to the inventory file is used
// before the role's; --check --diff shows what it changes; Alloy validates what it renders, and
// a site template Alloy rejects leaves the previous file running; the recap names the hosts.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { repoRoot } from '../lab/paths.ts';
import { freshLab, hostsBy, iniInventory, type LabHost, mustOnHost, provision, restartUnit } from './helpers.ts';

let info: LabInfo;
let inventory: string;
let push: LabHost;
let pull: LabHost;
const roleAlloy = readFileSync(join(repoRoot, 'roles', 'alloy', 'templates', 'trento.alloy.ejs'), 'utf8');
const roleAgent = readFileSync(join(repoRoot, 'roles', 'trento_agent', 'templates', 'agent.yaml.ejs'), 'utf8');
const ALLOY_PATH = '/etc/alloy/trento.alloy';

beforeAll(async () => {
  info = await freshLab();
  const by = hostsBy(info);
  push = by.push[0]!;
  pull = by.pull[0]!;
  const server = info.server!;
  inventory = await iniInventory(info, [{ host: push }, { host: pull }], {
    agent_trento_server_url: `http://${info.gateway}:8080`,
    agent_rabbitmq_host: info.gateway,
    agent_rabbitmq_password: 'rabbit-site-secret',
    agent_web_api_key: 'api-site-secret',
    agent_prometheus_remote_write_url: server.remoteWrite.none,
    agent_prometheus_auth: 'none',
    agent_prometheus_tls_ca_cert: server.hostCaCert,
    agent_prometheus_scrape_interval: '10s', // Alloy refuses an interval below its 10s scrape timeout
  });
  await mkdir(join(inventory, 'templates'));
});

const siteAlloy = (extra: string) => `${roleAlloy}\n// site: rack 7\n${extra}`;

describe('site templates next to the inventory', () => {
  it('--check --diff shows the site trento.alloy.ejs difference; the recap and --json name the hosts', async () => {
    await writeFile(join(inventory, 'templates', 'trento.alloy.ejs'), siteAlloy(''));
    const run = await provision(['-i', join(inventory, 'hosts'), '--check', '--diff']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('+// site: rack 7');
    const path = join(inventory, 'templates', 'trento.alloy.ejs');
    expect(run.stdout).toContain(`site template ${path}: ${push.name}`);
    const byHost = new Map(run.report!.hosts.map((h) => [h.host, h as typeof h & { siteTemplates: string[] }]));
    expect(byHost.get(push.name)!.siteTemplates).toEqual([path]);
    expect(byHost.get(pull.name)!.siteTemplates).toEqual([]); // pull hosts render no trento.alloy
  });

  it("applied: the file on the host is the site template's, Alloy validated and runs it", async () => {
    const run = await provision(['-i', join(inventory, 'hosts')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await mustOnHost(info, push.name, `cat ${ALLOY_PATH}`)).toContain('// site: rack 7');
    // The agent's own `generate alloy` before each start would replace it: no configure-alloy.sh then.
    await mustOnHost(info, push.name, restartUnit('trento-agent'));
    expect(await mustOnHost(info, push.name, `cat ${ALLOY_PATH}`)).toContain('// site: rack 7');
    expect(await mustOnHost(info, push.name, 'test -e /usr/share/trento/configure-alloy.sh && echo present || echo absent')).toBe('absent\n');
  });

  it("a site template Alloy rejects fails the host with Alloy's error and leaves the previous file", async () => {
    const before = await mustOnHost(info, push.name, `cat ${ALLOY_PATH}`);
    await writeFile(join(inventory, 'templates', 'trento.alloy.ejs'), siteAlloy('prometheus.scrape "broken" {\n'));
    const run = await provision(['-i', join(inventory, 'hosts'), '--limit', push.name]);
    expect(run.code).toBe(2);
    const host = run.report!.hosts.find((h) => h.host === push.name)!;
    expect(host.status).toBe('failed');
    expect(`${run.stdout}${JSON.stringify(host)}`).toMatch(/brace|validation/i);
    expect(await mustOnHost(info, push.name, `cat ${ALLOY_PATH}`)).toBe(before);
  });

  it('a site agent.yaml.ejs is used for every host; secrets stay masked in its diff', async () => {
    await writeFile(join(inventory, 'templates', 'trento.alloy.ejs'), roleAlloy);
    await writeFile(join(inventory, 'templates', 'agent.yaml.ejs'), roleAgent.replace('# Holds credentials', '# Site: Walldorf\n# Holds credentials'));
    const run = await provision(['-i', join(inventory, 'hosts'), '--check', '--diff']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('+# Site: Walldorf');
    expect(run.stdout).not.toContain('api-site-secret');
    expect(run.stdout).not.toContain('rabbit-site-secret');
    const agentPath = join(inventory, 'templates', 'agent.yaml.ejs');
    expect(run.report!.hosts.length).toBeGreaterThan(0);
    for (const h of run.report!.hosts) expect((h as typeof h & { siteTemplates: string[] }).siteTemplates).toContain(agentPath);
  });

  it('a site template EJS cannot render is a settings error naming the host and the file; nothing changes', async () => {
    const before = await mustOnHost(info, pull.name, 'cat /etc/trento/agent.yaml');
    const agentPath = join(inventory, 'templates', 'agent.yaml.ejs');
    await writeFile(agentPath, roleAgent.replace('# Holds credentials', '# Site: <%= rack_number %>\n# Holds credentials'));
    const run = await provision(['-i', join(inventory, 'hosts'), '--limit', pull.name]);
    await writeFile(agentPath, roleAgent);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.stdout).toContain(`ERROR ${pull.name}: site template (from ${agentPath}): cannot be rendered:`);
    expect(run.stdout).toMatch(/rack_number is not defined/);
    expect(run.stdout).toMatch(/nothing was changed on any host/);
    expect(await mustOnHost(info, pull.name, 'cat /etc/trento/agent.yaml')).toBe(before);
  });
});
