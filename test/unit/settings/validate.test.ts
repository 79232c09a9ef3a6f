import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { agentConfigFor, factsServiceUrl, formatSettingError, levenshtein, suggestVariable, validateHostVars } from '../../../src/settings/validate.ts';
import type { SettingProblem } from '../../../src/inventory/errors.ts';
import { resolvedHostVars } from '../../../src/settings/discovery.ts';
import { installMonitoringDep, serverCaPemFor, supportutilsFor } from '../../../src/settings/host-settings.ts';
import type { PrometheusMode } from '../../../src/settings/validate.ts';
import { loadRoleDefaults, resolveVars } from '../../../src/settings/defaults.ts';
import { VARIABLES } from '../../../src/settings/variables.ts';
import { BASE_VARS, GROUP } from './inventory-vars.ts';
import { MASK } from '../../../src/settings/secrets.ts';

const HOST = 'inventories/prod/host_vars/sles16-01.yml';
const defaults = loadRoleDefaults();

const base: Record<string, unknown> = { ...BASE_VARS };

function originsOf(vars: Record<string, unknown>, overrides: Record<string, string> = {}): Record<string, string> {
  return { ...Object.fromEntries(Object.keys(vars).map((k) => [k, GROUP])), ...overrides };
}

function withVars(changes: Record<string, unknown>): { vars: Record<string, unknown>; origins: Record<string, string> } {
  const vars = Object.fromEntries(Object.entries({ ...base, ...changes }).filter(([, v]) => v !== undefined));
  return { vars, origins: originsOf(vars, Object.fromEntries(Object.keys(changes).map((k) => [k, HOST]))) };
}

describe('agentConfigFor', () => {
  it('builds the pull config of an official-style inventory', () => {
    const { config, errors } = agentConfigFor(base, originsOf(base), 'pull', defaults);
    expect(errors).toEqual([]);
    expect(config).toEqual({
      'server-url': 'http://trento.example.com',
      'api-key': 'api-KEY-123',
      'facts-service-url': 'amqp://trento:guest@localhost/trento',
      'prometheus-mode': 'pull',
      'prometheus-exporter-name': 'node_exporter',
    });
  });

  it('builds the push config with the remote-write URL default and an explicit auth', () => {
    const { config, errors } = agentConfigFor(base, originsOf(base), 'push', defaults);
    expect(errors).toEqual([]);
    expect(config).toEqual({
      'server-url': 'http://trento.example.com',
      'api-key': 'api-KEY-123',
      'facts-service-url': 'amqp://trento:guest@localhost/trento',
      'prometheus-mode': 'push',
      'prometheus-exporter-name': 'grafana_alloy',
      'prometheus-url': 'https://trento.example.com/prometheus/api/v1/write',
      'prometheus-scrape-interval': '15s',
      'prometheus-auth': 'bearer',
      'prometheus-auth-bearer-token': 'tok-123',
    });
  });

  it('prefers agent_trento_server_url, then trento_server_url, then http://<trento_server_name>', () => {
    const url = (changes: Record<string, unknown>) => agentConfigFor(withVars(changes).vars, {}, 'pull', defaults).config['server-url'];
    expect(url({})).toBe('http://trento.example.com');
    expect(url({ trento_server_url: 'https://web.example.com' })).toBe('https://web.example.com');
    expect(url({ trento_server_url: 'https://web.example.com', agent_trento_server_url: 'https://agent.example.com:8443' })).toBe(
      'https://agent.example.com:8443',
    );
  });

  it('writes pull-only and push-only keys only in their mode', () => {
    const { vars, origins } = withVars({
      agent_prometheus_node_exporter_target: '10.0.0.5:9100',
      agent_prometheus_scrape_interval: '30s',
      agent_prometheus_remote_write_url: 'https://metrics.example.com/api/v1/write',
    });
    const pull = agentConfigFor(vars, origins, 'pull', defaults).config;
    expect(pull['prometheus-node-exporter-target']).toBe('10.0.0.5:9100');
    expect(pull['prometheus-url']).toBeUndefined();
    expect(pull['prometheus-scrape-interval']).toBeUndefined();
    expect(pull['prometheus-auth']).toBeUndefined();
    const push = agentConfigFor(vars, origins, 'push', defaults).config;
    expect(push['prometheus-node-exporter-target']).toBeUndefined();
    expect(push['prometheus-url']).toBe('https://metrics.example.com/api/v1/write');
    expect(push['prometheus-scrape-interval']).toBe('30s');
  });

  it('writes only the credentials of the chosen auth method', () => {
    const { vars, origins } = withVars({
      agent_prometheus_auth: 'mtls',
      agent_prometheus_auth_username: 'u',
      agent_prometheus_auth_password: 'p',
      agent_prometheus_tls_ca_cert: '/etc/trento/certs/ca.crt',
      agent_prometheus_tls_client_cert: '/etc/trento/certs/client.crt',
      agent_prometheus_tls_client_key: '/etc/trento/certs/client.key',
    });
    const { config, errors } = agentConfigFor(vars, origins, 'push', defaults);
    expect(errors).toEqual([]);
    expect(config['prometheus-auth']).toBe('mtls');
    expect(config['prometheus-tls-ca-cert']).toBe('/etc/trento/certs/ca.crt');
    expect(config['prometheus-tls-client-cert']).toBe('/etc/trento/certs/client.crt');
    expect(config['prometheus-tls-client-key']).toBe('/etc/trento/certs/client.key');
    expect(config['prometheus-auth-username']).toBeUndefined();
    expect(config['prometheus-auth-password']).toBeUndefined();
    expect(config['prometheus-auth-bearer-token']).toBeUndefined();
  });

  it('URL-encodes the RabbitMQ credentials and vhost', () => {
    const { vars, origins } = withVars({
      agent_rabbitmq_username: 'us er',
      agent_rabbitmq_password: 'p@ss:w/rd#?%',
      agent_rabbitmq_vhost: '/',
      agent_rabbitmq_host: 'rabbit.example.com:5671',
      agent_amqp_protocol: 'amqps',
    });
    const { config, errors } = agentConfigFor(vars, origins, 'pull', defaults);
    expect(errors).toEqual([]);
    expect(config['facts-service-url']).toBe('amqps://us%20er:p%40ss%3Aw%2Frd%23%3F%25@rabbit.example.com:5671/%2F');
    const url = new URL(config['facts-service-url']!);
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd#?%');
    expect(url.hostname).toBe('rabbit.example.com');
  });

  it('keeps the official role backward-compatible names', () => {
    const vars = {
      agent_web_api_key: 'k',
      trento_server_url: 'http://w',
      rabbitmq_username: 'ru',
      rabbitmq_password: 'rp',
      rabbitmq_vhost: 'rv',
      rabbitmq_host: 'rh',
      amqp_protocol: 'amqps',
      provision_rabbitmq: false,
    };
    expect(agentConfigFor(vars, {}, 'pull', defaults).config['facts-service-url']).toBe('amqps://ru:rp@rh/rv');
    const official = {
      agent_web_api_key: 'k',
      trento_server_url: 'http://w',
      trento_rabbitmq_password: 'tp',
      trento_rabbitmq_vhost: 'tv',
      provision_rabbitmq: 'no',
    };
    expect(agentConfigFor(official, {}, 'pull', defaults).config['facts-service-url']).toBe('amqp://trento:tp@localhost/tv');
    // `provision_rabbitmq | default(true) | bool`: set empty or null is false, as in Ansible.
    for (const empty of ['', null]) {
      expect(agentConfigFor({ ...official, provision_rabbitmq: empty }, {}, 'pull', defaults).config['facts-service-url']).toBe(
        'amqp://trento:tp@localhost/tv',
      );
    }
    expect(agentConfigFor({ ...official, agent_web_api_key: undefined, trento_api_key: 'old' }, {}, 'pull', defaults).config['api-key']).toBe('old');
  });

  it('evaluates Jinja references in the inventory', () => {
    const { vars, origins } = withVars({ vault_trento_api_key: 's3cret', agent_web_api_key: '{{ vault_trento_api_key }}' });
    expect(agentConfigFor(vars, origins, 'pull', defaults).config['api-key']).toBe('s3cret');
    const bad = withVars({ agent_web_api_key: "{{ lookup('env', 'KEY') }}" });
    const errors = validateHostVars(bad.vars, bad.origins, defaults);
    expect(errors).toEqual([expect.objectContaining({ variable: 'agent_web_api_key', origin: HOST, message: expect.stringContaining('cannot evaluate') })]);
    // A secret's own Jinja error quotes none of its words; another variable's says which.
    const secret = withVars({ agent_rabbitmq_password: 'Pw{{ S3cr3tPart | h4x }}end', agent_log_level: '{{ a | h4x }}' });
    const said = validateHostVars(secret.vars, secret.origins, defaults);
    expect(said.find((e) => e.variable === 'agent_rabbitmq_password')!.message).toBe(
      'cannot evaluate its Jinja (the reason is not shown: it would quote part of a secret). Put the plain value instead, or mark it !unsafe.',
    );
    expect(said.find((e) => e.variable === 'agent_log_level')!.message).toMatch(/filter "h4x" is not supported/);
    // The usual layout: the secret variable points at a vault_ one, whose error hides its words too.
    const via = withVars({ vault_trento_api_key: 'Zq8{{x|S3cr3tPart}}', agent_web_api_key: '{{ vault_trento_api_key }}' });
    const viaSaid = JSON.stringify(validateHostVars(via.vars, via.origins, defaults));
    expect(viaSaid).toContain('the reason is not shown');
    expect(viaSaid).not.toContain('S3cr3tPart');
  });

  it("a variable nobody set is an error only where Ansible renders it: not a shadowed fallback, not another mode's key, not default(omit)", () => {
    const errorsOf = (changes: Record<string, unknown>, mode: 'pull' | 'push') => {
      const { vars, origins } = withVars(changes);
      return [...new Set([...validateHostVars(vars, origins, defaults), ...agentConfigFor(vars, origins, mode, defaults).errors].map((e) => e.variable))];
    };
    // the deprecated rabbitmq_password wins: the server's trento_rabbitmq_password is never rendered
    expect(errorsOf({ rabbitmq_password: 'agentpw12345678', trento_rabbitmq_password: '{{ vault_srv_mq }}' }, 'pull')).toEqual([]);
    // a push-only credential on a pull host
    expect(errorsOf({ trento_prometheus_auth_password: '{{ vault_prom_pw }}' }, 'pull')).toEqual([]);
    // default(omit): "leave it out"
    const omitted = withVars({ agent_log_level: '{{ site_level | default(omit) }}' });
    expect(agentConfigFor(omitted.vars, omitted.origins, 'pull', defaults)).toMatchObject({ errors: [] });
    expect(agentConfigFor(omitted.vars, omitted.origins, 'pull', defaults).config['log-level']).toBeUndefined();
    // where it is rendered: an error naming what is missing
    expect(errorsOf({ agent_log_level: '{{ site_level }}' }, 'pull')).toEqual(['agent_log_level']);
    // a default of the mode's role (alloy's scrape interval), before the mode is known: not missing
    expect(errorsOf({ agent_heartbeat_interval: '{{ agent_prometheus_scrape_interval }}' }, 'push')).toEqual([]);
    // read in every mode, though written to no agent.yaml key one to one
    expect(errorsOf({ agent_prometheus_mode: '{{ site_mode }}' }, 'pull')).toEqual(['agent_prometheus_mode']);
    expect(errorsOf({ supportutils_package_name: '{{ site_pkg }}' }, 'pull')).toEqual(['supportutils_package_name']);
    // not read where supportutils is off (the official role's `when: supportutils_enabled | bool`)
    expect(errorsOf({ supportutils_package_name: '{{ site_pkg }}', supportutils_enabled: false }, 'pull')).toEqual([]);
  });

  it('facts-service-url is never left out: a RabbitMQ host that is undefined (through discovery) or empty is an error naming why', () => {
    const errorsOf = (changes: Record<string, unknown>) => {
      const { vars, origins } = withVars(changes);
      return agentConfigFor(vars, origins, 'pull', defaults).errors.map((e) => [e.variable, e.message]);
    };
    expect(errorsOf({ provision_rabbitmq: false, trento_rabbitmq_host: '{{ mq_address }}' })).toEqual([
      ['agent_rabbitmq_host', expect.stringMatching(/^is undefined here: its Jinja names mq_address, which this host does not have/)],
    ]);
    expect(errorsOf({ provision_rabbitmq: false, trento_rabbitmq_host: '' })).toEqual([
      ['agent_rabbitmq_host', expect.stringMatching(/^is (empty|not set), and facts-service-url \(how the agent reaches RabbitMQ\) is built from it/)],
    ]);
  });
});

interface Case {
  name: string;
  changes: Record<string, unknown>;
  mode?: PrometheusMode; // undefined: a static error, found by validateHostVars
  variable: string;
  origin: string;
  message: string;
}

const CASES: Case[] = [
  {
    name: 'push without URL',
    changes: { trento_server_name: undefined, agent_trento_server_url: 'https://t.example.com' },
    mode: 'push',
    variable: 'agent_prometheus_remote_write_url',
    origin: 'not set',
    message: "prometheus-url is required when prometheus-mode is 'push'",
  },
  {
    name: 'basic without username',
    changes: { agent_prometheus_auth: 'basic', agent_prometheus_auth_password: 'p' },
    mode: 'push',
    variable: 'agent_prometheus_auth_username',
    origin: 'not set',
    message: 'username is required for basic authentication',
  },
  {
    name: 'basic without password',
    changes: { agent_prometheus_auth: 'basic', agent_prometheus_auth_username: 'u' },
    mode: 'push',
    variable: 'agent_prometheus_auth_password',
    origin: 'not set',
    message: 'password is required for basic authentication',
  },
  {
    name: 'bearer without token',
    changes: { agent_prometheus_auth_bearer_token: undefined },
    mode: 'push',
    variable: 'agent_prometheus_auth_bearer_token',
    origin: 'not set',
    message: 'bearer token is required for bearer authentication',
  },
  {
    name: 'push with no auth method (the official default, trento_prometheus_auth "")',
    changes: { agent_prometheus_auth: undefined },
    mode: 'push',
    variable: 'agent_prometheus_auth',
    origin: 'roles/trento_agent/defaults/main.yml',
    message: 'set trento_prometheus_auth (or agent_prometheus_auth) to none, basic, bearer or mtls',
  },
  {
    name: 'push with auth set empty',
    changes: { trento_prometheus_auth: '', agent_prometheus_auth: undefined },
    mode: 'push',
    variable: 'agent_prometheus_auth',
    origin: `roles/trento_agent/defaults/main.yml (using trento_prometheus_auth from ${HOST})`,
    message: 'falls back to basic auth',
  },
  {
    name: 'basic from trento_prometheus_auth without its password',
    changes: { agent_prometheus_auth: undefined, trento_prometheus_auth: 'basic', trento_prometheus_auth_username: 'u' },
    mode: 'push',
    variable: 'agent_prometheus_auth_password',
    origin: 'not set',
    message: 'set trento_prometheus_auth_password',
  },
  {
    name: 'server CA that is not PEM',
    changes: { agent_server_ca_cert: 'MIIB-not-a-pem' },
    variable: 'agent_server_ca_cert',
    origin: HOST,
    message: 'is not a PEM certificate',
  },
  {
    name: 'server CA as base64 that is not base64',
    changes: { agent_server_ca_cert: '-----BEGIN CERTIFICATE-----', agent_server_ca_cert_as_base64: true },
    variable: 'agent_server_ca_cert',
    origin: HOST,
    message: 'is not base64',
  },
  {
    name: 'server CA with a key pasted after it',
    changes: {
      agent_server_ca_cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    },
    variable: 'agent_server_ca_cert',
    origin: HOST,
    message: 'has text besides its PEM certificates',
  },
  {
    name: 'server CA that is a truncated certificate',
    changes: { agent_server_ca_cert: '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n' },
    variable: 'agent_server_ca_cert',
    origin: HOST,
    message: 'does not parse',
  },
  {
    name: 'provision_rabbitmq that is not a boolean',
    changes: { provision_rabbitmq: 'maybe' },
    variable: 'provision_rabbitmq',
    origin: HOST,
    message: 'must be a boolean',
  },
  {
    // ansible-core 2.14: "y" | bool is false (to_bool), while boolean("y") is true: refused, not guessed
    name: 'provision_rabbitmq "y", which the bool filter reads as false and modules as true',
    changes: { provision_rabbitmq: 'y' },
    variable: 'provision_rabbitmq',
    origin: HOST,
    message:
      'is "y", which Ansible\'s modules read as true but its bool filter (which the official playbook applies to some switches) as false: write true or false',
  },
  {
    name: 'supportutils_enabled " yes" (padded: false for the bool filter)',
    changes: { supportutils_enabled: ' yes' },
    variable: 'supportutils_enabled',
    origin: HOST,
    message: 'is " yes", which Ansible',
  },
  {
    // no filter on it in the official playbook (a bare `when:`): "y" is true there, and here
    name: 'agent_install_monitoring_dep "y" is fine (read by boolean() only), but "maybe" is not',
    changes: { agent_install_monitoring_dep: 'maybe', supportutils_update_cache: 'y' },
    variable: 'agent_install_monitoring_dep',
    origin: HOST,
    message: 'must be a boolean',
  },
  {
    // The official role writes facts-service-url whatever its parts; an agent.yaml without it was written silently
    name: 'an empty RabbitMQ vhost',
    changes: { agent_rabbitmq_vhost: '' },
    variable: 'agent_rabbitmq_vhost',
    origin: HOST,
    message: 'is empty, and facts-service-url (how the agent reaches RabbitMQ) is built from it: set it',
  },
  {
    name: 'mtls without cert',
    changes: { agent_prometheus_auth: 'mtls', agent_prometheus_tls_client_key: '/k' },
    mode: 'push',
    variable: 'agent_prometheus_tls_client_cert',
    origin: 'not set',
    message: 'client certificate is required for mTLS authentication',
  },
  {
    name: 'mtls without key',
    changes: { agent_prometheus_auth: 'mtls', agent_prometheus_tls_client_cert: '/c' },
    mode: 'push',
    variable: 'agent_prometheus_tls_client_key',
    origin: 'not set',
    message: 'client key is required for mTLS authentication',
  },
  {
    name: 'unknown auth method',
    changes: { agent_prometheus_auth: 'token' },
    variable: 'agent_prometheus_auth',
    origin: HOST,
    message: 'invalid auth method: token (valid values: none, basic, bearer, mtls)',
  },
  {
    name: 'unknown mode',
    changes: { agent_prometheus_mode: 'Push' },
    variable: 'agent_prometheus_mode',
    origin: HOST,
    message: 'invalid prometheus mode: Push (valid values: pull, push)',
  },
  {
    name: 'mode the host cannot run',
    changes: { agent_prometheus_mode: 'push' },
    mode: 'pull',
    variable: 'agent_prometheus_mode',
    origin: HOST,
    message: 'asks for push mode, but this host is provisioned in pull mode',
  },
  {
    name: 'duration with a space',
    changes: { agent_prometheus_scrape_interval: '15 s' },
    variable: 'agent_prometheus_scrape_interval',
    origin: HOST,
    message: 'time: unknown unit " s" in duration "15 s"',
  },
  {
    name: 'negative duration',
    changes: { agent_prometheus_scrape_interval: '-1s' },
    variable: 'agent_prometheus_scrape_interval',
    origin: HOST,
    message: 'must be greater than zero',
  },
  {
    name: 'zero duration',
    changes: { agent_prometheus_scrape_interval: '0s' },
    variable: 'agent_prometheus_scrape_interval',
    origin: HOST,
    message: 'must be greater than zero',
  },
  {
    name: 'not a duration',
    changes: { agent_prometheus_scrape_interval: 'abc' },
    variable: 'agent_prometheus_scrape_interval',
    origin: HOST,
    message: 'time: invalid duration "abc"',
  },
  {
    name: 'bare number duration',
    changes: { agent_prometheus_scrape_interval: 15 },
    variable: 'agent_prometheus_scrape_interval',
    origin: HOST,
    message: 'with a unit such as "15s"',
  },
  {
    name: 'bad discovery period',
    changes: { agent_cluster_discovery_period: '10 seconds' },
    variable: 'agent_cluster_discovery_period',
    origin: HOST,
    message: 'unknown unit',
  },
  {
    name: 'a heartbeat under the agent minimum',
    changes: { agent_heartbeat_interval: '2500ms' },
    variable: 'agent_heartbeat_interval',
    origin: HOST,
    message: '2500ms is less than 3s, the least trento-agent accepts for heartbeat-interval: it would refuse its config and not start',
  },
  {
    name: 'a subscription discovery period under the agent minimum',
    changes: { agent_subscription_discovery_period: '19s' },
    variable: 'agent_subscription_discovery_period',
    origin: HOST,
    message: '19s is less than 20s, the least trento-agent accepts for subscription-discovery-period',
  },
  {
    name: 'a discovery period under one second',
    changes: { agent_saptune_discovery_period: '999ms' },
    variable: 'agent_saptune_discovery_period',
    origin: HOST,
    message: 'the least trento-agent accepts for saptune-discovery-period',
  },
  {
    name: 'server URL without scheme',
    changes: { agent_trento_server_url: 'trento.example.com' },
    variable: 'agent_trento_server_url',
    origin: HOST,
    message: 'is not a valid URL',
  },
  {
    // An unencoded "#" in the password: no password to pick out of it, so the whole user part goes
    name: 'server URL that does not parse, credentials in it',
    changes: { agent_trento_server_url: 'https://admin:pw#123456789@t .example' },
    variable: 'agent_trento_server_url',
    origin: HOST,
    message: `"https://${MASK}@t .example" is not a valid URL`,
  },
  {
    name: 'server URL with another scheme',
    changes: { trento_server_url: 'ftp://trento.example.com' },
    variable: 'trento_server_url',
    origin: HOST,
    message: 'URL scheme must be http or https, got "ftp"',
  },
  {
    name: 'remote write URL with another scheme',
    changes: { agent_prometheus_remote_write_url: 'amqp://x/api/v1/write' },
    variable: 'agent_prometheus_remote_write_url',
    origin: HOST,
    message: 'URL scheme must be http or https',
  },
  {
    name: 'bad AMQP protocol',
    changes: { agent_amqp_protocol: 'http' },
    variable: 'agent_amqp_protocol',
    origin: HOST,
    message: 'invalid value: http (valid values: amqp, amqps)',
  },
  {
    name: 'RabbitMQ host with a scheme',
    changes: { agent_rabbitmq_host: 'amqp://rabbit' },
    variable: 'agent_rabbitmq_host',
    origin: HOST,
    message: 'is not a host name or address',
  },
  {
    name: 'list where a string is expected',
    changes: { agent_web_api_key: ['a', 'b'] },
    variable: 'agent_web_api_key',
    origin: HOST,
    message: 'must be a string, got a list',
  },
  {
    name: 'mapping where a string is expected',
    changes: { agent_prometheus_auth_username: { a: 1 } },
    variable: 'agent_prometheus_auth_username',
    origin: HOST,
    message: 'must be a string, got a mapping',
  },
  {
    name: 'boolean where a string is expected',
    changes: { agent_rabbitmq_password: true },
    variable: 'agent_rabbitmq_password',
    origin: HOST,
    message: 'got a boolean (true) (quote the value where it is set: YAML and INI alike read it unquoted as this)',
  },
  {
    name: 'not a boolean',
    changes: { agent_install_monitoring_dep: 'maybe' },
    variable: 'agent_install_monitoring_dep',
    origin: HOST,
    message: 'must be a boolean',
  },
  {
    name: 'relative certificate path',
    changes: { agent_prometheus_tls_ca_cert: 'certs/ca.crt' },
    variable: 'agent_prometheus_tls_ca_cert',
    origin: HOST,
    message: 'must be an absolute path on the host',
  },
  {
    name: 'token with a line break',
    changes: { agent_prometheus_auth_bearer_token: 'tok\n123' },
    variable: 'agent_prometheus_auth_bearer_token',
    origin: HOST,
    message: 'must not contain spaces or line breaks',
  },
  {
    name: 'missing API key',
    changes: { agent_web_api_key: undefined },
    variable: 'agent_web_api_key',
    origin: 'not set',
    message: 'api-key is required, cannot start agent',
  },
  {
    name: 'missing server',
    changes: { trento_server_name: undefined },
    variable: 'agent_trento_server_url',
    origin: 'not set',
    message: 'server-url is required',
  },
  {
    name: 'missing RabbitMQ password',
    changes: { rabbitmq_password: undefined },
    variable: 'agent_rabbitmq_password',
    origin: 'not set',
    message: 'RabbitMQ password',
  },
  { name: 'empty API key', changes: { agent_web_api_key: '' }, variable: 'agent_web_api_key', origin: HOST, message: 'api-key is required' },
  // Set through a template naming a variable the host lacks (a vault file not loaded): that is
  // the error, not "set it", which would point at the line that does set it.
  {
    name: 'API key from an undefined vault variable',
    changes: { agent_web_api_key: '{{ vault_agent_web_api_key }}' },
    variable: 'agent_web_api_key',
    origin: HOST,
    message: 'is undefined here: its Jinja names vault_agent_web_api_key, which this host does not have',
  },
  {
    name: 'server name from an undefined variable',
    changes: { trento_server_name: '{{ srv_name }}' },
    variable: 'agent_trento_server_url',
    origin: `roles/trento_agent/defaults/main.yml (using trento_server_name from ${HOST})`,
    message: 'is undefined here: its Jinja names srv_name',
  },
  {
    name: 'empty bearer token',
    changes: { agent_prometheus_auth_bearer_token: null },
    mode: 'push',
    variable: 'agent_prometheus_auth_bearer_token',
    origin: HOST,
    message: 'bearer token is required for bearer authentication',
  },
  {
    name: 'misspelt variable',
    changes: { agent_prometheus_scrap_interval: '30s' },
    variable: 'agent_prometheus_scrap_interval',
    origin: HOST,
    message: 'unknown variable agent_prometheus_scrap_interval: did you mean agent_prometheus_scrape_interval?',
  },
  {
    name: 'misspelt trento_ variable',
    changes: { trento_sever_name: 'x' },
    variable: 'trento_sever_name',
    origin: HOST,
    message: 'did you mean trento_server_name?',
  },
];

describe('setting errors', () => {
  it.each(CASES)('$name: one error naming $variable', ({ changes, mode, variable, origin, message }) => {
    const { vars, origins } = withVars(changes);
    const staticErrors = validateHostVars(vars, origins, defaults);
    let errors: SettingProblem[] = staticErrors;
    if (mode !== undefined) {
      expect(staticErrors).toEqual([]);
      errors = agentConfigFor(vars, origins, mode, defaults).errors;
    } else {
      // Static errors are found again after facts, whatever the mode.
      for (const m of ['pull', 'push'] as const) {
        expect(agentConfigFor(vars, origins, m, defaults).errors).toContainEqual(staticErrors[0]);
      }
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ variable, origin });
    expect(errors[0]!.message).toContain(message);
  });

  it('a variable the auth method requires is "not set" (not from the file that chose the method, which the message names)', () => {
    const { vars, origins } = withVars({ agent_prometheus_auth: 'basic', agent_prometheus_auth_password: 'p' });
    const [error] = agentConfigFor(vars, origins, 'push', defaults).errors;
    expect(error).toMatchObject({ variable: 'agent_prometheus_auth_username', origin: 'not set' });
    expect(error!.message).toMatch(new RegExp(`\\(agent_prometheus_auth is "basic" in ${HOST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`));
  });

  it("a secret put in a non-secret setting's place is not quoted by its error: a pasted key, a URL with its password, a value of several lines", () => {
    const key = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7SENTINEL', '-----END PRIVATE KEY-----', ''].join('\n');
    const cases: [string, string, RegExp][] = [
      [
        'agent_prometheus_tls_client_key',
        key,
        /^must be an absolute path on the host, got a PEM block \("-----BEGIN PRIVATE KEY-----", \d+ characters, not shown: the key or certificate itself\?\)$/,
      ],
      ['agent_prometheus_tls_ca_cert', 'line one\nSENTINEL two', /^must be an absolute path on the host, got a value of 2 lines \(not shown\)$/],
      // the key as `base64 -w0 client.key` writes it, as agent_server_ca_cert may be given
      [
        'agent_prometheus_tls_client_key',
        Buffer.from(key).toString('base64'),
        /^must be an absolute path on the host, got a base64-encoded PEM block \(\d+ characters, not shown: the key or certificate itself\?\)$/,
      ],
      [
        'agent_prometheus_tls_client_key',
        `${'k'.repeat(300)}SENTINEL`,
        /^must be an absolute path on the host, got a value of 308 characters \(not shown: a key or a file's content\?\)$/,
      ],
      [
        'agent_rabbitmq_host',
        'amqp://trento:SENTINEL@rabbit:5672',
        new RegExp(`^"amqp://${MASK.replace(/\*/g, '\\*')}@rabbit:5672" is not a host name or address`),
      ],
    ];
    for (const [variable, value, message] of cases) {
      const { vars, origins } = withVars({ [variable]: value });
      const errors = validateHostVars(vars, origins, defaults);
      expect(errors.map((e) => e.variable)).toEqual([variable]);
      expect(errors[0]!.message).toMatch(message);
      expect(formatSettingError(errors[0]!)).not.toContain('SENTINEL');
      expect(formatSettingError(errors[0]!)).not.toContain(Buffer.from(key).toString('base64').slice(0, 40));
    }
    // A plain mistake is still shown as written, to be found in the file.
    const { vars, origins } = withVars({ agent_prometheus_tls_client_key: 'certs/client.key' });
    expect(validateHostVars(vars, origins, defaults)[0]!.message).toBe('must be an absolute path on the host, got "certs/client.key"');
  });

  it("push mode without an auth method but with a username and a password: basic, as the agent's default (the official role writes no method then)", () => {
    const { vars, origins } = withVars({
      trento_prometheus_auth: '',
      agent_prometheus_auth: undefined,
      trento_prometheus_auth_username: 'prometheus',
      trento_prometheus_auth_password: 'prometheus-password',
    });
    const { config, errors } = agentConfigFor(vars, origins, 'push', defaults);
    expect(errors).toEqual([]);
    expect(config['prometheus-auth']).toBeUndefined();
    expect([config['prometheus-auth-username'], config['prometheus-auth-password']]).toEqual(['prometheus', 'prometheus-password']);
  });

  it('a CA chain over 8 KiB (certificates in base64) is taken; no other setting that long', () => {
    const pem = readFileSync(new URL('../../fixtures/official-playbook/server-ca.pem', import.meta.url), 'utf8');
    const chain = Buffer.from(pem.repeat(12)).toString('base64');
    expect(chain.length).toBeGreaterThan(8192);
    const ok = withVars({ agent_server_ca_cert: chain, agent_server_ca_cert_as_base64: true });
    expect(validateHostVars(ok.vars, ok.origins, defaults)).toEqual([]);
    const long = withVars({ agent_rabbitmq_host: 'h'.repeat(9000) });
    expect(validateHostVars(long.vars, long.origins, defaults)[0]!.message).toBe('is 9000 characters long; no setting is longer than 8192 (a pasted file?)');
  });

  it('reports every problem of a host at once', () => {
    const { vars, origins } = withVars({ agent_prometheus_auth: 'x', agent_prometheus_scrape_interval: 'y', agent_web_api_key: undefined });
    expect(
      validateHostVars(vars, origins, defaults)
        .map((e) => e.variable)
        .sort(),
    ).toEqual(['agent_prometheus_auth', 'agent_prometheus_scrape_interval', 'agent_web_api_key']);
  });

  it('reports a bad variable once, not again in the defaults built from it', () => {
    const { vars, origins } = withVars({ trento_server_name: 'bad name' });
    expect(validateHostVars(vars, origins, defaults).map((e) => e.variable)).toEqual(['trento_server_name']);
    expect(agentConfigFor(vars, origins, 'push', defaults).errors.map((e) => e.variable)).toEqual(['trento_server_name']);
  });

  it('says which inventory variable a defaulted value was built from', () => {
    const { vars, origins } = withVars({});
    const resolved = resolveVars(vars, origins, ['trento_agent', 'alloy'], defaults);
    expect(resolved.get('agent_prometheus_remote_write_url')).toBe('https://trento.example.com/prometheus/api/v1/write');
    expect(resolved.origin('agent_prometheus_remote_write_url')).toBe(`roles/alloy/defaults/main.yml (using trento_server_name from ${GROUP})`);
    expect(resolved.sources('agent_prometheus_remote_write_url')).toEqual(['trento_server_name']);
    expect(resolved.origin('agent_prometheus_scrape_interval')).toBe('roles/alloy/defaults/main.yml');
  });

  it('accepts what the official playbook accepts', () => {
    const { vars, origins } = withVars({
      agent_install_monitoring_dep: false,
      agent_prometheus_auth_password: 12345,
      agent_prometheus_auth: 'none',
      agent_prometheus_scrape_interval: '1m30s',
      ansible_host: '10.0.0.1',
      agent_unrelated_setting_of_the_user: 1,
      trento_web_admin_password: 'x',
      trento_rabbitmq_host_group: '',
    });
    expect(validateHostVars(vars, origins, defaults)).toEqual([]);
    expect(agentConfigFor(vars, origins, 'push', defaults).errors).toEqual([]);
  });

  it('formats an error with host, variable and file', () => {
    expect(formatSettingError({ variable: 'agent_prometheus_auth', origin: GROUP, message: 'invalid auth method: x' }, 'sles16-01')).toBe(
      `sles16-01: agent_prometheus_auth (${GROUP}): invalid auth method: x`,
    );
  });
});

describe('helpers', () => {
  it('builds facts-service-url like the official role', () => {
    expect(factsServiceUrl({ protocol: 'amqp', username: 'trento', password: 'guest', host: 'localhost', vhost: 'trento' })).toBe(
      'amqp://trento:guest@localhost/trento',
    );
  });

  it('reads agent_install_monitoring_dep with Ansible truthiness and its default', () => {
    expect(installMonitoringDep(resolvedHostVars({}, {}, defaults))).toBe(true);
    expect(installMonitoringDep(resolvedHostVars({ agent_install_monitoring_dep: 'no' }, {}, defaults))).toBe(false);
    expect(installMonitoringDep(resolvedHostVars({ agent_install_monitoring_dep: false }, {}, defaults))).toBe(false);
    expect(installMonitoringDep(resolvedHostVars({ agent_install_monitoring_dep: 'True' }, {}, defaults))).toBe(true);
    // through Jinja (issue 14: the plan used to read the raw string and install node_exporter)
    expect(installMonitoringDep(resolvedHostVars({ agent_install_monitoring_dep: '{{ manage_exporter }}', manage_exporter: false }, {}, defaults))).toBe(false);
  });

  it('reads supportutils_enabled and supportutils_update_cache like the official role: default true, Ansible truthiness, Jinja', () => {
    expect(supportutilsFor(resolvedHostVars({}, {}, defaults))).toEqual({ enabled: true, updateCache: true });
    expect(supportutilsFor(resolvedHostVars({ supportutils_enabled: 'false' }, {}, defaults)).enabled).toBe(false); // -e supportutils_enabled=false
    expect(supportutilsFor(resolvedHostVars({ supportutils_enabled: false }, {}, defaults)).enabled).toBe(false);
    expect(supportutilsFor(resolvedHostVars({ supportutils_enabled: 'no' }, {}, defaults)).enabled).toBe(false);
    expect(supportutilsFor(resolvedHostVars({ supportutils_enabled: 'True' }, {}, defaults)).enabled).toBe(true);
    expect(supportutilsFor(resolvedHostVars({ supportutils_enabled: '{{ support }}', support: 0 }, {}, defaults)).enabled).toBe(false);
    expect(supportutilsFor(resolvedHostVars({ supportutils_update_cache: 'off' }, {}, defaults))).toEqual({ enabled: true, updateCache: false });
  });

  it('refuses what the supportutils role cannot honour: a non-boolean switch, renamed packages; suggests misspelt names', () => {
    const bad = withVars({ supportutils_enabled: 'maybe', supportutils_plugin_package_name: 'my-plugin', supportutils_package_name: 'supportutils' });
    const errors = validateHostVars(bad.vars, bad.origins, defaults);
    expect(errors.map((e) => e.variable).sort()).toEqual(['supportutils_enabled', 'supportutils_plugin_package_name']);
    expect(errors.find((e) => e.variable === 'supportutils_enabled')!.message).toMatch(/must be a boolean/u);
    const renamed = errors.find((e) => e.variable === 'supportutils_plugin_package_name')!;
    expect(renamed.origin).toBe(HOST);
    expect(renamed.message).toMatch(
      /"my-plugin" is not supported: .*supportutils-plugin-trento.*remove supportutils_plugin_package_name, or set supportutils_enabled: false/u,
    );
    expect(suggestVariable('supportutils_enable')).toBe('supportutils_enabled');
    const ok = withVars({ supportutils_enabled: false, supportutils_update_cache: 'yes' });
    expect(validateHostVars(ok.vars, ok.origins, defaults)).toEqual([]);
  });

  it('computes Levenshtein distances', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
  });

  it('suggests only for near misses of agent_/trento_ names', () => {
    expect(suggestVariable('agent_web_apikey')).toBe('agent_web_api_key');
    expect(suggestVariable('agent_prometheus_auth_pasword')).toBe('agent_prometheus_auth_password');
    expect(suggestVariable('agent_web_api_key')).toBeUndefined();
    expect(suggestVariable('agent_something_else')).toBeUndefined();
    expect(suggestVariable('ansible_hots')).toBeUndefined();
  });

  it("names what an official playbook user's slip meant: a word cut short, a word left out, the older rabbitmq_/amqp_ names; never the official playbook's own names", () => {
    const meant: Record<string, string> = {
      // a last word cut short: by letters alone "pass" is closer to "host" than to "password"
      agent_rabbitmq_pass: 'agent_rabbitmq_password',
      agent_rabbitmq_user: 'agent_rabbitmq_username',
      trento_rabbitmq_pass: 'trento_rabbitmq_password',
      rabbitmq_user: 'rabbitmq_username',
      rabbitmq_pass: 'rabbitmq_password',
      amqp_proto: 'amqp_protocol',
      // a word left out: the supported name with the fewest words more
      agent_server_url: 'agent_trento_server_url',
      agent_api_key: 'agent_web_api_key',
      agent_ca_cert: 'agent_server_ca_cert',
      agent_server_ca: 'agent_server_ca_cert',
      agent_prometheus_url: 'agent_prometheus_remote_write_url',
      agent_trento_server: 'agent_trento_server_url',
    };
    for (const [slip, name] of Object.entries(meant)) expect(suggestVariable(slip), slip).toBe(name);
    // The official playbook's own names (its server side too), and an admin's own variables.
    for (const name of [
      'trento_server',
      'trento_web_admin_password',
      'trento_postgres_host',
      'rabbitmq_node_name',
      'agent_install_dir',
      'supportutils_package',
    ])
      expect(suggestVariable(name), name).toBeUndefined();
  });

  it('has a unique, documented entry per variable', () => {
    const names = VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const v of VARIABLES) expect(v.help.length).toBeGreaterThan(5);
  });
});

describe('agent_server_ca_cert', () => {
  const PEM = readFileSync(new URL('../../fixtures/official-playbook/server-ca.pem', import.meta.url), 'utf8');

  it('accepts a PEM certificate, or its base64 with agent_server_ca_cert_as_base64, and gives the same file', () => {
    const plain = withVars({ agent_server_ca_cert: PEM });
    expect(validateHostVars(plain.vars, plain.origins, defaults)).toEqual([]);
    expect(serverCaPemFor(resolvedHostVars(plain.vars, plain.origins, defaults))).toBe(PEM);
    const b64 = withVars({ agent_server_ca_cert: Buffer.from(PEM).toString('base64'), agent_server_ca_cert_as_base64: 'yes' });
    expect(validateHostVars(b64.vars, b64.origins, defaults)).toEqual([]);
    expect(serverCaPemFor(resolvedHostVars(b64.vars, b64.origins, defaults))).toBe(PEM);
    expect(serverCaPemFor(resolvedHostVars(base, {}, defaults))).toBeUndefined();
  });
});

describe('the review of the settings layer: what Go, Alloy or the official role would read otherwise', () => {
  const errorsOf = (changes: Record<string, unknown>, mode: PrometheusMode = 'push') => {
    const { vars, origins } = withVars(changes);
    return agentConfigFor(vars, origins, mode, defaults).errors.map((e) => [e.variable, e.message]);
  };

  it("a scrape interval under Alloy's default scrape_timeout (10s) is refused: Alloy would refuse trento.alloy", () => {
    expect(errorsOf({ agent_prometheus_scrape_interval: '5s' })).toEqual([
      [
        'agent_prometheus_scrape_interval',
        expect.stringMatching(/^5s is less than 10s, Alloy would refuse trento\.alloy: .*scrape_timeout \(10s\) greater than scrape_interval/),
      ],
    ]);
    expect(errorsOf({ agent_prometheus_scrape_interval: '10s' })).toEqual([]);
  });

  it("an empty agent_prometheus_remote_write_url (the official role's default) gives the URL on trento_server_name, as its vars do", () => {
    for (const empty of ['', null]) {
      const { vars, origins } = withVars({ agent_prometheus_remote_write_url: empty });
      const r = agentConfigFor(vars, origins, 'push', defaults);
      expect(r.errors).toEqual([]);
      expect(r.config['prometheus-url']).toBe('https://trento.example.com/prometheus/api/v1/write');
    }
  });

  it.each([
    ['https:\\\\trento.example.com\\x', /has no "\/\/" after "https:"/],
    ['https:trento.example.com/x', /has no "\/\/" after "https:"/],
    ['https://trento.example.com/%zz', /has a "%" not followed by two hex digits/],
    ['https://trento.example.com/a\u0001b', /contains a control character/],
    ['https://trento.example.com:0/x', /has port 0/],
    // net/url's validUserinfo: a quote, <, >, ^, {, |, }, a backtick or a non-ASCII letter in user:password
    ['https://push:pa"ss@trento.example.com/x', /user:password part that Go refuses \(net\/url: invalid userinfo\)/],
    ['https://push:p{ass}@trento.example.com/x', /invalid userinfo/],
    ['https://pü:pass@trento.example.com/x', /invalid userinfo/],
    // and in its host: a {, } or backtick, which the WHATWG parser lets through
    ['https://tre{nto.example.com/x', /character in its host that Go refuses \(net\/url: invalid character in host name\)/],
    ['https://tre`nto.example.com/x', /invalid character in host name/],
    ['https://u:p@tre}nto.example.com/x', /invalid character in host name/],
  ])('a URL Go would refuse or read without a host is refused: %j', (url, message) => {
    expect(errorsOf({ agent_trento_server_url: url })).toEqual([['agent_trento_server_url', expect.stringMatching(message)]]);
  });

  it.each([
    "https://push:p!$&'()*+,;=%41ss@trento.example.com/x",
    'https://push:rw-pw@8b1@trento.example.com/x',
    'https://trento.example.com/x?a="b"',
    'https://[::1]:8443/x',
    'https://tr%C3%A9nto.example.com/x',
  ])('a user:password part of the characters Go takes is accepted, as is a quote past the host: %j', (url) => {
    expect(errorsOf({ agent_trento_server_url: url })).toEqual([]);
  });

  it('RabbitMQ credentials written for the official template (percent-encoded) are kept as written; others are encoded', () => {
    const urlOf = (password: string) => {
      const { vars, origins } = withVars({ agent_rabbitmq_password: password });
      return agentConfigFor(vars, origins, 'pull', defaults).config['facts-service-url'];
    };
    expect(urlOf('p%40ssword')).toBe('amqp://trento:p%40ssword@localhost/trento');
    expect(urlOf('p%40ss/word')).toBe('amqp://trento:p%40ss%2Fword@localhost/trento');
    expect(urlOf('p@ss')).toBe('amqp://trento:p%40ss@localhost/trento');
    expect(urlOf('50%off')).toBe('amqp://trento:50%25off@localhost/trento');
  });

  it('a quoted "false" for agent_install_monitoring_dep is refused: the official `when:` reads it as true', () => {
    expect(errorsOf({ agent_install_monitoring_dep: 'false' }, 'pull')).toEqual([
      ['agent_install_monitoring_dep', expect.stringMatching(/^is the string "false", which the official playbook's `when:` reads as true/)],
    ]);
    expect(errorsOf({ agent_install_monitoring_dep: false }, 'pull')).toEqual([]);
    expect(errorsOf({ agent_install_monitoring_dep: 'true' }, 'pull')).toEqual([]);
  });

  it('agent_trento_repository (older official releases) is refused, never ignored', () => {
    expect(errorsOf({ agent_trento_repository: 'https://download.example.com/trento/' }, 'pull')).toEqual([
      ['agent_trento_repository', expect.stringMatching(/^is not supported: trento-provision adds no zypper repository/)],
    ]);
  });

  it('control or invisible characters in a header value, and half a surrogate pair anywhere, are refused', () => {
    expect(errorsOf({ agent_web_api_key: 'api\u200bKEY-123' })).toEqual([['agent_web_api_key', 'must not contain control or invisible characters']]);
    expect(errorsOf({ agent_web_api_key: 'api\u0085KEY-123' })).toEqual([['agent_web_api_key', 'must not contain control or invisible characters']]);
    expect(errorsOf({ trento_rabbitmq_password: 'ab\ud800cd' }, 'pull')).toEqual([
      ['trento_rabbitmq_password', expect.stringMatching(/holds half of a UTF-16 surrogate pair/)],
    ]);
  });
});
