// The settings tests' inventory: the official playbook's style, with an external RabbitMQ (no
// rabbitmq_hosts group to discover it in: trento_rabbitmq_host's default, localhost) and bearer
// auth, as group_vars/all.yml would give it.
export const GROUP = 'inventories/prod/group_vars/all.yml';

export const BASE_VARS: Readonly<Record<string, unknown>> = {
  agent_web_api_key: 'api-KEY-123',
  trento_server_name: 'trento.example.com',
  rabbitmq_password: 'guest',
  provision_rabbitmq: false,
  agent_prometheus_auth: 'bearer',
  agent_prometheus_auth_bearer_token: 'tok-123',
};
