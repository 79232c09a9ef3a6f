// The run's one secret list (src/output/redact.ts): what it hides, in which spellings, and that
// the values derived from the variables table before any output already cover every secret the
// rendered files carry, so no second list is needed once configs are known.
import { describe, expect, it } from 'vitest';
import { secretSet } from '../../../src/output/redact.ts';
import { createSink } from '../../../src/output/sink.ts';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';
import { renderTrentoAlloy } from '../../../src/render/trento-alloy.ts';
import { loadRoleDefaults } from '../../../src/settings/defaults.ts';
import { MASK, MIN_FREE_TEXT_SECRET } from '../../../src/settings/secrets.ts';
import { usedSecrets } from '../../../src/settings/used-secrets.ts';
import { agentConfigFor } from '../../../src/settings/validate.ts';

const defaults = loadRoleDefaults();

describe('the secret set', () => {
  it('hides a value added after the redactor was handed out (the sink keeps one function)', () => {
    const set = secretSet();
    const redact = set.redact;
    expect(redact('sudo said typed-password-1')).toBe('sudo said typed-password-1');
    set.add('typed-password-1');
    set.add(['vaulted-value-22', 'vaulted-value-22']);
    expect(redact('sudo said typed-password-1, vault vaulted-value-22')).toBe(`sudo said ${MASK}, vault ${MASK}`);
  });

  it('masks by field only below MIN_FREE_TEXT_SECRET: short values stay readable in messages', () => {
    const short = 'x'.repeat(MIN_FREE_TEXT_SECRET - 1);
    const long = 'y'.repeat(MIN_FREE_TEXT_SECRET);
    const set = secretSet([short, long, '']);
    expect(set.redact(`${short} ${long}`)).toBe(`${short} ${MASK}`);
  });

  it('finds every spelling: as is, URL-encoded, JSON-escaped, Alloy-escaped', () => {
    const secret = 'p@ss/wörd "q" \\ $1 .*';
    const set = secretSet([secret]);
    for (const spelled of [
      secret,
      encodeURIComponent(secret),
      JSON.stringify(secret),
      JSON.stringify({ a: secret }),
      `password = "${secret.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
    ]) {
      const out = set.redact(`before ${spelled} after`);
      expect(out).toContain(MASK);
      expect(out).not.toContain('wörd');
      expect(out).not.toContain('w%C3%B6rd');
    }
  });

  it("a password written already encoded (the official template's way) is masked as facts-service-url holds it, and decoded", async () => {
    const { factsServiceUrl } = await import('../../../src/settings/validate.ts');
    const password = 'p%40ssw0rd/2024';
    const url = factsServiceUrl({ protocol: 'amqp', username: 'trento', password, host: 'mq', vhost: 'trento' });
    expect(url).toBe('amqp://trento:p%40ssw0rd%2F2024@mq/trento');
    const set = secretSet([password]);
    expect(set.redact(`dial ${url}: connection refused`)).toBe(`dial amqp://trento:${MASK}@mq/trento: connection refused`);
    expect(set.redact('ACCESS_REFUSED for p@ssw0rd/2024')).toBe(`ACCESS_REFUSED for ${MASK}`);
    // a value no URL can hold (a lone surrogate, from a JSON inventory) is masked as it is, no error
    const lone = 'password-\ud800-x';
    expect(secretSet([lone]).redact(`said ${lone}`)).toBe(`said ${MASK}`);
    // a decoded spelling shorter than the minimum is not searched for ("%2Ftrento" is "/trento")
    expect(secretSet(['%2Ftrento']).redact('/etc/trento/agent.yaml, %2Ftrento')).toBe(`/etc/trento/agent.yaml, ${MASK}`);
  });

  it('masks a value of several lines line by line too, as output indents what a host echoed (the sink, the JUnit report)', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nshort\n-----END PRIVATE KEY-----';
    const set = secretSet([pem]);
    const echoed = `    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n    short\n`;
    expect(set.redact(echoed)).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    // The whole value still masks as one; its PEM armour and blank lines alone are no secret.
    expect(set.redact(`x ${pem} y`)).toBe(`x ${MASK} y`);
    expect(set.redact('-----BEGIN PRIVATE KEY-----')).toBe('-----BEGIN PRIVATE KEY-----');
    expect(secretSet(['line-one-of-it\n          \nline-two-of-it']).redact('a          b')).toBe('a          b');
    // Through the sink: a failed step whose output is the key, indented under FAILED.
    const out: string[] = [];
    const sink = await createSink({ out: { write: (t: string) => out.push(t) } as never, live: false, color: false, verbosity: 0 } as never);
    sink.secrets.add([pem]);
    sink.emit({ type: 'change-failed', host: 'h1', id: 'x', summary: 'update x', rc: 1, output: pem } as never);
    expect(out.join('')).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  });

  it('masks the longest of overlapping values whole', () => {
    const set = secretSet(['secret-one', 'secret-one-and-more']);
    expect(set.redact('secret-one-and-more')).toBe(MASK);
  });
});

describe('derived from the variables table, before any output', () => {
  // Every secret row the toolkit writes, set through the names an admin uses (the official
  // playbook's trento_* defaults, a deprecated name, the agent_* name itself).
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    [
      'basic auth through the official names',
      {
        trento_api_key: 'api-key-from-web-1',
        rabbitmq_password: 'rabbit/@:?#[]-pw',
        trento_prometheus_auth: 'basic',
        trento_prometheus_auth_username: 'u',
        trento_prometheus_auth_password: 'prom "pass" \\ word',
      },
      ['api-key-from-web-1', 'rabbit/@:?#[]-pw', 'prom "pass" \\ word'],
    ],
    [
      'bearer auth through the agent_* names',
      {
        agent_web_api_key: 'api-key-from-web-2',
        agent_rabbitmq_password: 'rabbit-password-2',
        agent_prometheus_auth: 'bearer',
        agent_prometheus_auth_bearer_token: 'bearer-token-abc.def',
      },
      ['api-key-from-web-2', 'rabbit-password-2', 'bearer-token-abc.def'],
    ],
  ];

  it.each(cases)('%s: agent.yaml and trento.alloy as rendered carry no secret the set misses', (_name, own, secrets) => {
    const vars = { trento_server_name: 'trento.example.com', provision_rabbitmq: false, ...own };
    const set = secretSet(usedSecrets(vars, {}, defaults).map((s) => s.value));
    const { config, errors } = agentConfigFor(vars, {}, 'push', defaults);
    expect(errors).toEqual([]);
    const rendered = [renderAgentYaml(config), renderTrentoAlloy(config, 'f0d3a5b2-0000-4000-8000-000000000001'), JSON.stringify(config)].join('\n');
    const spellings = (s: string) => [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)];
    for (const s of secrets)
      expect(
        spellings(s).some((v) => rendered.includes(v)),
        s,
      ).toBe(true); // the files do carry it
    const shown = set.redact(rendered);
    for (const s of secrets) for (const v of spellings(s)) expect(shown).not.toContain(v);
  });

  it('takes connection passwords of any number kind, as their exact text', () => {
    const vars = { ansible_become_password: 12345678901234567890n, ansible_password: 'ssh-password-1' };
    expect(usedSecrets(vars, {}, defaults).map((s) => s.value)).toEqual(expect.arrayContaining(['12345678901234567890', 'ssh-password-1']));
  });
});
