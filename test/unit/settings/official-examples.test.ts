// The official playbook's own example inventories (test/fixtures/official-playbook/), taken as
// an admin of that playbook would: unchanged, `-e agent_web_api_key=...`.
//
// For every agent host and both modes (SLES 15 SP4-SP7: pull, SLES 16: push) the expected
// values are what the official `agent` role renders into agent.yaml (worked out by hand from
// its defaults, its vars and the `trento` role's discovery), with the agent's own defaults
// applied to the keys the official template leaves out. Where that rendering leaves the agent
// broken, the toolkit must refuse with a settings error instead.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseExtraVars } from '../../../src/inventory/index.ts';
import { AGENT_DEFAULTS, type AgentConfig, type PrometheusMode } from '../../../src/settings/agent-config.ts';
import { loadRoleDefaults } from '../../../src/settings/defaults.ts';
import { playViewOf } from '../../../src/settings/discovery.ts';
import { agentConfigFor, validateHostVars } from '../../../src/settings/validate.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/official-playbook');
const API_KEY = 'api-key-from-trento-web';
const defaults = loadRoleDefaults();

type Expected = Record<string, string> | { error: { variable: string; message: string } };

/** What each example means for each agent host, per mode. */
const EXPECTED: Record<string, Record<string, Record<PrometheusMode, Expected>>> = {
  // Everything on vitellone, which is also the agent: RabbitMQ in its own group -> localhost.
  'single-node': {
    vitellone: {
      pull: {
        'server-url': 'http://your-server-name',
        'api-key': API_KEY,
        'facts-service-url': 'amqp://trento:trento@localhost/trento',
        'prometheus-mode': 'pull',
        'prometheus-exporter-name': 'node_exporter',
      },
      push: {
        'server-url': 'http://your-server-name',
        'api-key': API_KEY,
        'facts-service-url': 'amqp://trento:trento@localhost/trento',
        'prometheus-mode': 'push',
        'prometheus-exporter-name': 'grafana_alloy',
        'prometheus-url': 'https://your-server-name/prometheus/api/v1/write',
        'prometheus-scrape-interval': '15s',
        'prometheus-auth': 'basic',
        'prometheus-auth-username': 'prometheus',
        'prometheus-auth-password': 'your-prometheus-password',
      },
    },
  },
  // RabbitMQ on vitellone-mq: the agents use its ansible_host.
  'dedicated-nodes': Object.fromEntries(
    ['hana01', 'hana02'].map((host) => [
      host,
      {
        pull: {
          'server-url': 'http://yourserver.com',
          'api-key': API_KEY,
          'facts-service-url': 'amqp://trento:trento@192.0.2.30/trento',
          'prometheus-mode': 'pull',
          'prometheus-exporter-name': 'node_exporter',
        },
        push: {
          'server-url': 'http://yourserver.com',
          'api-key': API_KEY,
          'facts-service-url': 'amqp://trento:trento@192.0.2.30/trento',
          'prometheus-mode': 'push',
          'prometheus-exporter-name': 'grafana_alloy',
          'prometheus-url': 'https://yourserver.com/prometheus/api/v1/write',
          'prometheus-scrape-interval': '15s',
          'prometheus-auth': 'basic',
          'prometheus-auth-username': 'prometheus',
          'prometheus-auth-password': 'your-prometheus-password',
        },
      },
    ]),
  ),
  // provision_rabbitmq: false -> trento_rabbitmq_host and its user. No trento_prometheus_auth:
  // the official role leaves prometheus-auth out, the agent falls back to basic without a
  // username and does not start in push mode: a settings error here.
  'external-services': Object.fromEntries(
    ['hana01', 'hana02'].map((host) => [
      host,
      {
        pull: {
          'server-url': 'http://your-servername.com',
          'api-key': API_KEY,
          'facts-service-url': 'amqp://trentoansible:trentoansible1@yourexternalrabbit.com:5671/trento',
          'prometheus-mode': 'pull',
          'prometheus-exporter-name': 'node_exporter',
        },
        push: { error: { variable: 'agent_prometheus_auth', message: 'set trento_prometheus_auth (or agent_prometheus_auth)' } },
      },
    ]),
  ),
};

/** The agent's own defaults for keys left out (trento-agent 3.1 LoadConfig). */
function withAgentDefaults(config: AgentConfig): Record<string, string> {
  const push = config['prometheus-mode'] === 'push';
  return {
    'prometheus-exporter-name': push ? AGENT_DEFAULTS.pushExporterName : AGENT_DEFAULTS.pullExporterName,
    ...(push ? { 'prometheus-scrape-interval': AGENT_DEFAULTS.scrapeInterval, 'prometheus-auth': AGENT_DEFAULTS.auth } : {}),
    ...(config as unknown as Record<string, string>),
  };
}

async function example(name: string) {
  const inventory = await loadInventory(join(FIXTURES, name, 'inventory.yml'));
  const extra = parseExtraVars([`agent_web_api_key=${API_KEY}`], FIXTURES);
  const agents = [...inventory.hosts.values()].filter((h) => h.groups.includes('agents'));
  return agents.map((entry) => ({
    name: entry.name,
    vars: { ...entry.vars, ...extra.vars },
    origins: { ...entry.origins, ...extra.origins },
    play: playViewOf(inventory, entry.name, extra.vars),
  }));
}

describe("the official playbook's example inventories", () => {
  for (const [name, hosts] of Object.entries(EXPECTED)) {
    it(`${name}: every agent host, both modes, as the official role renders it`, async () => {
      const agents = await example(name);
      expect(agents.map((a) => a.name)).toEqual(Object.keys(hosts));
      for (const agent of agents) {
        expect(validateHostVars(agent.vars, agent.origins, defaults, agent.play), agent.name).toEqual([]);
        for (const mode of ['pull', 'push'] as const) {
          const expected = hosts[agent.name]![mode];
          const { config, errors } = agentConfigFor(agent.vars, agent.origins, mode, defaults, agent.play);
          const failure = (expected as { error?: { variable: string; message: string } }).error;
          if (failure !== undefined) {
            expect(
              errors.map((e) => e.variable),
              `${agent.name} ${mode}`,
            ).toEqual([failure.variable]);
            expect(errors[0]!.message).toContain(failure.message);
          } else {
            expect(errors, `${agent.name} ${mode}`).toEqual([]);
            expect(withAgentDefaults(config), `${agent.name} ${mode}`).toEqual(expected);
          }
        }
      }
    });
  }

  it('external-services with trento_prometheus_auth given provisions push hosts too', async () => {
    const [agent] = await example('external-services');
    const vars = { ...agent!.vars, trento_prometheus_auth: 'none' };
    const { config, errors } = agentConfigFor(vars, agent!.origins, 'push', defaults, agent!.play);
    expect(errors).toEqual([]);
    expect(config['prometheus-auth']).toBe('none');
    expect(config['prometheus-url']).toBe('https://your-servername.com/prometheus/api/v1/write');
  });
});

describe('RabbitMQ discovery (the official trento role)', () => {
  const facts = async (name: string, host: string, extra: string[] = [], change: (vars: Record<string, unknown>) => void = () => {}) => {
    const inventory = await loadInventory(join(FIXTURES, name, 'inventory.yml'));
    const parsed = parseExtraVars([`agent_web_api_key=${API_KEY}`, ...extra], FIXTURES);
    const entry = inventory.hosts.get(host)!;
    for (const h of inventory.hosts.values()) change(h.vars);
    const vars = { ...entry.vars, ...parsed.vars };
    return agentConfigFor(vars, { ...entry.origins, ...parsed.origins }, 'pull', defaults, playViewOf(inventory, host, parsed.vars));
  };

  it('takes the inventory name of the first host when it has no ansible_host', async () => {
    const { config } = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      delete vars.ansible_host;
    });
    expect(config['facts-service-url']).toBe('amqp://trento:trento@vitellone-mq/trento');
  });

  it("an ansible_host with Jinja is evaluated in the RabbitMQ host's own context, as Ansible's hostvars are", async () => {
    // (ansible-core 2.14: `debug msg={{ hostvars[groups['rabbitmq_hosts'][0]]['ansible_host'] }}` gives
    // "mq1.mgmt" for a host mq1.corp with ansible_host "{{ inventory_hostname_short }}.mgmt".)
    const ok = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      if (vars.ansible_host === '192.0.2.30') vars.ansible_host = '{{ inventory_hostname_short }}.mgmt.example';
    });
    expect(ok.errors).toEqual([]);
    expect(ok.config['facts-service-url']).toBe('amqp://trento:trento@vitellone-mq.mgmt.example/trento');
    const undefinedName = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      if (vars.ansible_host === '192.0.2.30') vars.ansible_host = '{{ mq_name }}.mgmt';
    });
    expect(undefinedName.errors.map((e) => e.message)).toEqual([
      expect.stringContaining(
        'ansible_host of vitellone-mq (provision_rabbitmq is true): is undefined here: its Jinja names mq_name, which this host does not have',
      ),
    ]);
  });

  it("the host's magic variables reach every setting, and a variable nobody set is an error naming it, not a setting dropped (ansible-core 2.14 fails the play on it)", async () => {
    // (ansible -m debug -a var=agent_prometheus_node_exporter_target gives "hana01:9100".)
    const magic = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      vars.agent_prometheus_node_exporter_target = '{{ inventory_hostname }}:9100';
      vars.agent_log_level = '{{ site_log_level | default("info") }}';
    });
    expect(magic.errors).toEqual([]);
    expect(magic.config['prometheus-node-exporter-target']).toBe('hana01:9100');
    expect(magic.config['log-level']).toBe('info');
    const typo = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      vars.agent_log_level = '{{ my_log_level }}';
      vars.agent_prometheus_node_exporter_target = '{{ ansible_fqdn }}:9100';
    });
    expect(typo.errors.map((e) => [e.variable, e.message])).toEqual(
      expect.arrayContaining([
        [
          'agent_log_level',
          'is undefined here: its Jinja names my_log_level, which this host does not have; define it, add a default() filter, or give the value itself',
        ],
        [
          'agent_prometheus_node_exporter_target',
          'is undefined here: its Jinja names ansible_fqdn, which this host does not have (Ansible facts are not gathered by trento-provision); define it, add a default() filter, or give the value itself',
        ],
      ]),
    );
  });

  it('-e trento_rabbitmq_host_group that comes out undefined is an error, not discovery quietly off (the agent went to localhost); empty, discovery is off, as the official play passes it', async () => {
    const { errors } = await facts('dedicated-nodes', 'hana01', ['trento_rabbitmq_host_group={{ nothing_here }}']);
    expect(errors.map((e) => [e.variable, e.message])).toEqual([
      ['trento_rabbitmq_host_group', 'is given with -e but is undefined (its Jinja names a variable nobody set): name the group to discover from'],
    ]);
    // (the official agent.yml gives an empty group itself when provision_rabbitmq is false)
    const empty = await facts('external-services', 'hana01', ['trento_rabbitmq_host_group=']);
    expect(empty.errors).toEqual([]);
    expect(empty.config['facts-service-url']).toMatch(/@yourexternalrabbit\.com:5671\//);
  });

  it("-e agent_rabbitmq_host_group (older official releases' name for the group) is refused naming today's, not ignored", async () => {
    const { errors } = await facts('dedicated-nodes', 'hana01', ['agent_rabbitmq_host_group=postgres_hosts']);
    expect(errors.map((e) => [e.variable, e.message])).toEqual([
      [
        'agent_rabbitmq_host_group',
        'is the name older releases of the official playbook gave the group RabbitMQ is discovered in; it is not read here: give it as trento_rabbitmq_host_group (-e trento_rabbitmq_host_group=GROUP)',
      ],
    ]);
    // in the inventory it never mattered (the play's role parameter beats it): still known, no error
    const inInventory = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      vars.agent_rabbitmq_host_group = 'postgres_hosts';
    });
    expect(inInventory.errors).toEqual([]);
  });

  it('an agent_rabbitmq_host in the inventory beats discovery (a role default, as in the official role)', async () => {
    const { config } = await facts('dedicated-nodes', 'hana01', ['agent_rabbitmq_host=mq.example.com:5672']);
    expect(config['facts-service-url']).toBe('amqp://trento:trento@mq.example.com:5672/trento');
  });

  it('trento_rabbitmq_host in the inventory is ignored while discovery is on, used once provision_rabbitmq is false', async () => {
    const on = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      vars.trento_rabbitmq_host = 'ignored.example.com';
    });
    expect(on.config['facts-service-url']).toBe('amqp://trento:trento@192.0.2.30/trento');
    const off = await facts('dedicated-nodes', 'hana01', ['provision_rabbitmq=false'], (vars) => {
      vars.trento_rabbitmq_host = 'external.example.com';
    });
    expect(off.config['facts-service-url']).toBe('amqp://trento:trento@external.example.com/trento');
  });

  it('the deprecated rabbitmq_host when provision_rabbitmq is false and trento_rabbitmq_host unset', async () => {
    const { config } = await facts('dedicated-nodes', 'hana01', ['provision_rabbitmq=no', 'rabbitmq_host=old.example.com']);
    expect(config['facts-service-url']).toBe('amqp://trento:trento@old.example.com/trento');
  });

  it('-e trento_rabbitmq_host_group picks another group (a role parameter: only -e beats it)', async () => {
    const byExtra = await facts('dedicated-nodes', 'hana01', ['trento_rabbitmq_host_group=postgres_hosts']);
    expect(byExtra.config['facts-service-url']).toBe('amqp://trento:trento@192.0.2.20/trento');
    const byInventory = await facts('dedicated-nodes', 'hana01', [], (vars) => {
      vars.trento_rabbitmq_host_group = 'postgres_hosts';
    });
    expect(byInventory.config['facts-service-url']).toBe('amqp://trento:trento@192.0.2.30/trento');
  });

  it('localhost for an agent that is a member of the group, not only its first host', async () => {
    const inventory = await loadInventory(join(FIXTURES, 'dedicated-nodes', 'inventory.yml'));
    inventory.groups.get('rabbitmq_hosts')!.hosts.push('hana02');
    const entry = inventory.hosts.get('hana02')!;
    const extra = parseExtraVars([`agent_web_api_key=${API_KEY}`], FIXTURES);
    const vars = { ...entry.vars, ...extra.vars };
    const { config } = agentConfigFor(vars, entry.origins, 'pull', defaults, playViewOf(inventory, 'hana02', extra.vars));
    expect(config['facts-service-url']).toBe('amqp://trento:trento@localhost/trento');
  });

  it('a missing rabbitmq_hosts group is a settings error naming the ways out', async () => {
    const { errors } = await facts('external-services', 'hana01', ['provision_rabbitmq=true']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ variable: 'agent_rabbitmq_host', origin: 'roles/trento_agent/defaults/main.yml' });
    expect(errors[0]!.message).toContain('group "rabbitmq_hosts"');
    expect(errors[0]!.message).toContain('provision_rabbitmq: false and trento_rabbitmq_host');
  });
});
