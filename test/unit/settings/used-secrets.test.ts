// Which secrets the toolkit masks in free text: the ones it uses, not every password-looking
// variable of an inventory shared with the server playbook (issue: "trento" and "pass" from
// server-side variables were masked inside every word that contained them).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseExtraVars } from '../../../src/inventory/index.ts';
import { secretSet } from '../../../src/output/redact.ts';
import { loadRoleDefaults } from '../../../src/settings/defaults.ts';
import { playViewOf } from '../../../src/settings/discovery.ts';
import { maskAgentYaml } from '../../../src/settings/secrets.ts';
import { shortSecretWarnings, usedSecrets } from '../../../src/settings/used-secrets.ts';
import { agentConfigFor } from '../../../src/settings/validate.ts';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/official-playbook');
const defaults = loadRoleDefaults();

async function singleNode() {
  const inventory = await loadInventory(join(FIXTURES, 'single-node', 'inventory.yml'));
  const extra = parseExtraVars(['agent_web_api_key=api-key-from-trento-web'], FIXTURES);
  const entry = inventory.hosts.get('vitellone')!;
  const vars = { ...entry.vars, ...extra.vars };
  const origins = { ...entry.origins, ...extra.origins };
  return { vars, origins, play: playViewOf(inventory, 'vitellone', extra.vars) };
}

describe('used secrets', () => {
  it("include the password of a URL setting's userinfo, decoded as it is sent", async () => {
    const { vars, origins, play } = await singleNode();
    const url = 'https://push:rw%2Fpw-8b1@trento.example.com/prometheus/api/v1/write';
    const used = usedSecrets({ ...vars, agent_prometheus_remote_write_url: url }, { ...origins, agent_prometheus_remote_write_url: '-e' }, defaults, play);
    expect(used).toContainEqual({ variable: 'the password in agent_prometheus_remote_write_url', origin: '-e', value: 'rw/pw-8b1' });
    // The run's set masks it in free text, in both spellings.
    const set = secretSet(used.map((s) => s.value));
    expect(set.redact(`pushing to ${url} failed (rw/pw-8b1)`)).not.toMatch(/rw%2Fpw|rw\/pw/);
    // As the admin wrote it, whatever it encodes (a + left as typed, lower-case hex): that
    // spelling is in the set too; a query after the host is no part of the password.
    for (const written of ['a+b%2fc-9x', 'p%21ss-long']) {
      const typed = `https://push:${written}@trento.example.com/prometheus/api/v1/write?x=a@b`;
      const secrets = usedSecrets({ ...vars, agent_prometheus_remote_write_url: typed }, origins, defaults, play).map((s) => s.value);
      expect(secretSet(secrets).redact(`error: ${typed}`), written).not.toContain(written);
    }
  });

  it('are the credentials the toolkit writes, after their defaults; server-side passwords are not', async () => {
    const { vars, origins, play } = await singleNode();
    const used = usedSecrets(vars, origins, defaults, play);
    expect(used.map((s) => [s.variable, s.value])).toEqual([
      ['agent_web_api_key', 'api-key-from-trento-web'],
      ['agent_rabbitmq_password', 'trento'],
      ['agent_prometheus_auth_password', 'your-prometheus-password'],
    ]);
    // trento_web_postgres_password "pass", trento_wanda_postgres_password "wanda",
    // trento_web_admin_password, web_smtp_password: never read by the toolkit.
    expect(used.map((s) => s.value)).not.toContain('pass');
    expect(used.map((s) => s.value)).not.toContain('adminpassword');
  });

  it('a used secret under 8 characters is a warning naming the variable and its origin', async () => {
    const { vars, origins, play } = await singleNode();
    const warnings = shortSecretWarnings(usedSecrets(vars, origins, defaults, play));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^agent_rabbitmq_password \(roles\/trento_agent\/defaults\/main\.yml \(using trento_rabbitmq_password from .*inventory\.yml:\d+\)\) is 6 characters long: too short to hide in free text/u,
    );
  });

  it('messages stay readable, while agent.yaml masks the short password by field', async () => {
    const { vars, origins, play } = await singleNode();
    const secrets = usedSecrets(vars, origins, defaults, play).map((s) => s.value);
    const redact = secretSet(secrets).redact;
    expect(redact('trento_prometheus_auth_password (inventory.yml): password is required')).toBe(
      'trento_prometheus_auth_password (inventory.yml): password is required',
    );
    expect(redact('api-key: api-key-from-trento-web')).toBe('api-key: ********');
    const { config } = agentConfigFor(vars, origins, 'push', defaults, play);
    const masked = maskAgentYaml(renderAgentYaml(config));
    expect(masked).toContain('facts-service-url: "amqp://trento:********@localhost/trento"');
    expect(masked).toContain('prometheus-auth-password: "********"');
    expect(masked).not.toContain('your-prometheus-password');
  });
});
