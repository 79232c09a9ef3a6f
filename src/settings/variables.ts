// The inventory variables trento-provision understands, as one table.
//
// Names are the official trento-project/ansible role's (role `agent`), so an inventory written
// for the official playbook works unchanged. Defaults are NOT here: they live in
// roles/<role>/defaults/main.yml and are read at run time (see defaults.ts); `defaultsIn` only
// says which file holds a variable's default, for the documentation and error messages.
import type { AgentConfigKey, AuthMethod, PrometheusMode } from './agent-config.ts';
import { AUTH_METHODS, LOG_LEVELS, PROMETHEUS_MODES } from './agent-config.ts';

export type RoleName = 'trento_agent' | 'node_exporter' | 'alloy' | 'supportutils';

/** How a value is checked (validate.ts holds one checker per kind). */
export type VariableKind =
  | 'text' //      any string (a whole number is accepted and written as text)
  | 'word' //      a string without whitespace (tokens, keys, names)
  | 'bool' //      Ansible truthiness: true/false, yes/no, on/off, 1/0
  | 'duration' //  Go duration with a unit, > 0
  | 'http-url' //  absolute http:// or https:// URL
  | 'host' //      host name, IPv4 or [IPv6], optional :port
  | 'target' //    host:port or URL, no whitespace (node_exporter target)
  | 'path' //      absolute path on the managed host
  | 'enum';

export interface VariableSpec {
  name: string;
  kind: VariableKind;
  /** For kind 'enum'. */
  values?: readonly string[];
  /** The longest value taken, where a setting holds a file (MAX_VALUE_LENGTH otherwise). */
  maxLength?: number;
  /** The agent's wording for a bad enum value, so errors read like the agent's own. */
  invalidMessage?: (value: string) => string;
  /** The agent.yaml key the value is written to, if it maps one to one. */
  agentKey?: AgentConfigKey;
  /** Modes in which the key is written. Other modes ignore it (as the official role does). */
  modes?: readonly PrometheusMode[];
  /** Push mode: write the key only for these auth methods (credentials of other methods stay out). */
  auth?: readonly AuthMethod[];
  /** For kind 'duration': the least the agent accepts (a Go duration); below it the agent
   *  refuses its config and does not start ("invalid interval 1s, should be at least 3s"). */
  minimum?: string;
  /** Why `minimum`, where it is not the agent that refuses less (the message's ending). */
  minimumReason?: string;
  /** An empty or null inventory value gives the role default, as the official role's
   *  `default(..., true)` in its vars/main.yml does (for the others, empty is unset). */
  emptyMeansDefault?: true;
  /** For kind 'bool': the official playbook reads it through Jinja's `| bool` filter, which
   *  takes fewer words as true than Ansible's boolean() (see ambiguousBoolProblem). */
  boolFilter?: true;
  /** For kind 'bool': the official playbook reads it bare in a `when:` (Jinja truthiness), where
   *  any non-empty string is true ("false" quoted, or false in an INI inventory, installs). */
  jinjaTruthy?: true;
  /** A credential: never printed, masked in diffs and logs. */
  secret: boolean;
  /** The role whose defaults/main.yml gives the default, if any. */
  defaultsIn?: RoleName;
  help: string;
}

const BOTH: readonly PrometheusMode[] = ['pull', 'push'];
const PUSH: readonly PrometheusMode[] = ['push'];
const PULL: readonly PrometheusMode[] = ['pull'];

export const VARIABLES: readonly VariableSpec[] = [
  // --- Trento server connection ---
  {
    name: 'agent_web_api_key',
    kind: 'word',
    agentKey: 'api-key',
    modes: BOTH,
    secret: true,
    defaultsIn: 'trento_agent',
    help: 'API key of Trento Web (Settings > API key). Required. Deprecated name: trento_api_key.',
  },
  {
    name: 'agent_trento_server_url',
    kind: 'http-url',
    agentKey: 'server-url',
    modes: BOTH,
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'Trento Web URL. Default: trento_server_url, else http://<trento_server_name>.',
  },
  { name: 'trento_server_url', kind: 'http-url', secret: false, help: 'Trento Web URL (official playbook name).' },
  { name: 'trento_server_name', kind: 'host', secret: false, help: 'Domain name of the Trento installation; gives the server URL and the remote-write URL.' },
  { name: 'trento_api_key', kind: 'word', secret: true, help: 'Deprecated name of agent_web_api_key.' },

  // --- facts-service-url (RabbitMQ), built as <protocol>://<user>:<password>@<host>/<vhost> ---
  {
    name: 'agent_amqp_protocol',
    kind: 'enum',
    values: ['amqp', 'amqps'],
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'amqp or amqps. Default: amqp_protocol, else amqp.',
  },
  {
    name: 'agent_rabbitmq_host',
    kind: 'host',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'RabbitMQ host[:port]. Default: discovered as the official playbook does (provision_rabbitmq: first host of group rabbitmq_hosts), else trento_rabbitmq_host.',
  },
  {
    name: 'agent_rabbitmq_username',
    kind: 'text',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'RabbitMQ user. Default: rabbitmq_username, trento_rabbitmq_username, else trento.',
  },
  {
    name: 'agent_rabbitmq_password',
    kind: 'text',
    secret: true,
    defaultsIn: 'trento_agent',
    help: 'RabbitMQ password. Required. Default: rabbitmq_password or trento_rabbitmq_password.',
  },
  {
    name: 'agent_rabbitmq_vhost',
    kind: 'text',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'RabbitMQ virtual host. Default: rabbitmq_vhost, trento_rabbitmq_vhost, else trento.',
  },
  { name: 'amqp_protocol', kind: 'enum', values: ['amqp', 'amqps'], secret: false, help: 'Deprecated name of agent_amqp_protocol.' },
  { name: 'rabbitmq_host', kind: 'host', secret: false, help: 'Deprecated name of agent_rabbitmq_host.' },
  { name: 'rabbitmq_username', kind: 'text', secret: false, help: 'Deprecated name of agent_rabbitmq_username.' },
  { name: 'rabbitmq_password', kind: 'text', secret: true, help: 'Deprecated name of agent_rabbitmq_password.' },
  { name: 'rabbitmq_vhost', kind: 'text', secret: false, help: 'Deprecated name of agent_rabbitmq_vhost.' },
  {
    name: 'trento_rabbitmq_host',
    kind: 'host',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'RabbitMQ host[:port] when provision_rabbitmq is false (official playbook). Default: rabbitmq_host, else localhost.',
  },
  {
    name: 'provision_rabbitmq',
    boolFilter: true,
    kind: 'bool',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'Official playbook switch: true (default) finds the RabbitMQ host in group rabbitmq_hosts; false uses trento_rabbitmq_host.',
  },
  {
    name: 'trento_rabbitmq_host_group',
    kind: 'text',
    secret: false,
    help: 'The group RabbitMQ is discovered in. A role parameter of the official play: only -e overrides it.',
  },
  { name: 'trento_rabbitmq_username', kind: 'text', secret: false, help: 'Server-side RabbitMQ user (official playbook).' },
  { name: 'trento_rabbitmq_password', kind: 'text', secret: true, help: 'Server-side RabbitMQ password (official playbook).' },
  { name: 'trento_rabbitmq_vhost', kind: 'text', secret: false, help: 'Server-side RabbitMQ vhost (official playbook).' },

  // --- metrics: pull (node_exporter) or push (Alloy) ---
  {
    name: 'agent_prometheus_mode',
    kind: 'enum',
    values: PROMETHEUS_MODES,
    secret: false,
    invalidMessage: (v) => `invalid prometheus mode: ${v} (valid values: ${PROMETHEUS_MODES.join(', ')})`,
    help: "pull or push, a check only: it must be the platform's mode (SLES 15: pull, SLES 16: push).",
  },
  {
    name: 'agent_prometheus_exporter_name',
    kind: 'word',
    agentKey: 'prometheus-exporter-name',
    modes: BOTH,
    secret: false,
    help: 'exporter_name label. Default: node_exporter (pull, roles/node_exporter) or grafana_alloy (push, roles/alloy).',
  },
  {
    name: 'agent_prometheus_node_exporter_target',
    kind: 'target',
    agentKey: 'prometheus-node-exporter-target',
    modes: PULL,
    secret: false,
    help: 'Pull mode: where Prometheus scrapes node_exporter. Unset: the agent picks its lowest IPv4 + :9100.',
  },
  {
    name: 'agent_prometheus_scrape_interval',
    kind: 'duration',
    agentKey: 'prometheus-scrape-interval',
    modes: PUSH,
    secret: false,
    defaultsIn: 'alloy',
    // trento.alloy sets no scrape_timeout (byte for byte the agent's own `generate alloy`), so
    // Alloy's default of 10s applies, and prometheus.scrape refuses a timeout above the interval.
    minimum: '10s',
    minimumReason:
      'Alloy would refuse trento.alloy: its prometheus.scrape keeps the default scrape_timeout of 10s, which must not exceed scrape_interval ("scrape_timeout (10s) greater than scrape_interval")',
    help: "Push mode: Alloy scrape interval (Go duration, at least 10s: Alloy's default scrape_timeout). Default 15s.",
  },
  {
    name: 'agent_prometheus_remote_write_url',
    kind: 'http-url',
    agentKey: 'prometheus-url',
    modes: PUSH,
    secret: false,
    defaultsIn: 'alloy',
    // The official role's defaults set it "" and its vars fall back to trento_server_name's URL.
    emptyMeansDefault: true,
    help: 'Push mode: full remote-write URL. Default https://<trento_server_name>/prometheus/api/v1/write.',
  },
  {
    name: 'agent_prometheus_auth',
    kind: 'enum',
    values: AUTH_METHODS,
    agentKey: 'prometheus-auth',
    modes: PUSH,
    secret: false,
    invalidMessage: (v) => `invalid auth method: ${v} (valid values: ${AUTH_METHODS.join(', ')})`,
    defaultsIn: 'trento_agent',
    help: 'Push mode: none, basic, bearer or mtls. Default: trento_prometheus_auth; empty in push mode: basic with a username and a password, else an error.',
  },
  {
    name: 'agent_prometheus_auth_username',
    kind: 'text',
    agentKey: 'prometheus-auth-username',
    modes: PUSH,
    auth: ['basic'],
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'Push mode, basic auth: user name. Default: trento_prometheus_auth_username.',
  },
  {
    name: 'agent_prometheus_auth_password',
    kind: 'text',
    agentKey: 'prometheus-auth-password',
    modes: PUSH,
    auth: ['basic'],
    secret: true,
    defaultsIn: 'trento_agent',
    help: 'Push mode, basic auth: password. Default: trento_prometheus_auth_password.',
  },
  {
    name: 'trento_prometheus_auth',
    kind: 'enum',
    values: AUTH_METHODS,
    secret: false,
    defaultsIn: 'trento_agent',
    invalidMessage: (v) => `invalid auth method: ${v} (valid values: ${AUTH_METHODS.join(', ')})`,
    help: 'Official playbook: how the Trento Prometheus authenticates pushes; the default of agent_prometheus_auth.',
  },
  {
    name: 'trento_prometheus_auth_username',
    kind: 'text',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'Official playbook: the default of agent_prometheus_auth_username.',
  },
  {
    name: 'trento_prometheus_auth_password',
    kind: 'text',
    secret: true,
    defaultsIn: 'trento_agent',
    help: 'Official playbook: the default of agent_prometheus_auth_password.',
  },
  {
    name: 'agent_prometheus_auth_bearer_token',
    kind: 'word',
    agentKey: 'prometheus-auth-bearer-token',
    modes: PUSH,
    auth: ['bearer'],
    secret: true,
    help: 'Push mode, bearer auth: token.',
  },
  {
    name: 'agent_prometheus_tls_ca_cert',
    kind: 'path',
    agentKey: 'prometheus-tls-ca-cert',
    modes: PUSH,
    secret: false,
    help: 'Push mode, any auth: CA certificate file on the host.',
  },
  {
    name: 'agent_prometheus_tls_client_cert',
    kind: 'path',
    agentKey: 'prometheus-tls-client-cert',
    modes: PUSH,
    auth: ['mtls'],
    secret: false,
    help: 'Push mode, mTLS: client certificate file on the host.',
  },
  {
    name: 'agent_prometheus_tls_client_key',
    kind: 'path',
    agentKey: 'prometheus-tls-client-key',
    modes: PUSH,
    auth: ['mtls'],
    secret: false,
    help: 'Push mode, mTLS: client key file on the host (a path, not the key itself).',
  },
  {
    name: 'agent_server_ca_cert',
    kind: 'text',
    // a chain of RSA-4096 certificates in base64 is over 8 KiB; the host reads the file back whole
    maxLength: 256 * 1024,
    secret: false,
    help: 'PEM of the CA that signed the Trento server; written to /etc/pki/trust/anchors/trento-server-ca.pem (0644) + update-ca-certificates.',
  },
  {
    name: 'agent_server_ca_cert_as_base64',
    boolFilter: true,
    kind: 'bool',
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'agent_server_ca_cert is base64 of the PEM (as the official role accepts). Default false.',
  },
  {
    name: 'agent_package_state',
    kind: 'enum',
    values: ['present', 'latest'],
    secret: false,
    defaultsIn: 'trento_agent',
    help: "present (default): install what is missing; latest: also upgrade the toolkit's packages to the newest the repositories offer (the official role always does). --upgrade is a shorthand.",
  },
  {
    name: 'agent_install_monitoring_dep',
    kind: 'bool',
    jinjaTruthy: true,
    secret: false,
    defaultsIn: 'trento_agent',
    help: 'Install and start node_exporter (pull) or Alloy (push). Default true.',
  },

  // --- SUSE's support tooling (the official role `supportutils`) ---
  {
    name: 'supportutils_enabled',
    boolFilter: true,
    kind: 'bool',
    secret: false,
    defaultsIn: 'supportutils',
    help: "Install supportutils and supportutils-plugin-trento (supportconfig collects Trento's data). Default true.",
  },
  {
    name: 'supportutils_package_name',
    kind: 'word',
    secret: false,
    defaultsIn: 'supportutils',
    help: 'Official role: the supportutils package name. Only the default (supportutils) is supported.',
  },
  {
    name: 'supportutils_plugin_package_name',
    kind: 'word',
    secret: false,
    defaultsIn: 'supportutils',
    help: 'Official role: the plugin package name. Only the default (supportutils-plugin-trento) is supported.',
  },
  {
    name: 'supportutils_update_cache',
    kind: 'bool',
    secret: false,
    defaultsIn: 'supportutils',
    help: 'Refresh the repositories (zypper refresh) before installing the support packages. Default true.',
  },

  // --- optional agent tuning (not in the official role; agent.yaml keys of trento-agent 3.1) ---
  {
    name: 'agent_log_level',
    kind: 'enum',
    values: LOG_LEVELS,
    agentKey: 'log-level',
    modes: BOTH,
    secret: false,
    help: 'Agent log level. Unset: the agent default (info).',
  },
  // The least each period may be: trento-agent 3.1's LoadConfig (validatePeriod, and
  // internal/agent/heartbeat.go's HeartbeatMinInterval) refuses to start below it.
  ...(
    [
      ['cluster', '1s'],
      ['sapsystem', '1s'],
      ['cloud', '1s'],
      ['host', '1s'],
      ['subscription', '20s'],
      ['saptune', '1s'],
    ] as const
  ).map(
    ([what, minimum]): VariableSpec => ({
      name: `agent_${what}_discovery_period`,
      kind: 'duration',
      agentKey: `${what}-discovery-period`,
      minimum,
      modes: BOTH,
      secret: false,
      help: `Go duration, at least ${minimum}.`,
    }),
  ),
  {
    name: 'agent_heartbeat_interval',
    kind: 'duration',
    agentKey: 'heartbeat-interval',
    minimum: '3s',
    modes: BOTH,
    secret: false,
    help: 'Go duration, at least 3s.',
  },
];

/**
 * Names the official playbook uses that this toolkit does not need. They are known, so they
 * are neither errors nor "did you mean" candidates (an inventory shared with the server
 * playbook has them).
 */
export const OTHER_KNOWN_VARIABLES: readonly string[] = [
  // refused when set (validate.ts repositoryProblems), known so that it is not called a typo
  'agent_trento_repository',
  'trento_repository',
  'agent_rabbitmq_host_group', // refused when given with -e (discovery.ts formerGroupVariable)
  'trento_wanda_proxy_location',
  'provision_postgres',
  'provision_prometheus',
  'provision_proxy',
  'trento_prometheus_host',
  'trento_prometheus_host_group',
  'trento_prometheus_port',
  'trento_prometheus_effective_host',
  'trento_postgres_effective_host',
  'trento_web_listen_port',
  'trento_wanda_listen_port',
  'trento_web_admin_username',
  'trento_web_admin_password',
  'trento_postgres_host',
  'trento_postgres_host_group',
  'trento_web_postgres_username',
  'trento_web_postgres_password',
  'trento_web_postgres_db',
  'trento_web_postgres_event_store',
  'trento_wanda_postgres_username',
  'trento_wanda_postgres_password',
  'trento_wanda_postgres_db',
  'trento_rabbitmq_effective_host',
];
