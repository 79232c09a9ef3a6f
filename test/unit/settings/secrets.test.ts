import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import { MASK, maskAgentYaml, maskAlloy, maskUrlPassword, SECRET_AGENT_KEYS, SECRET_VARIABLES } from '../../../src/settings/secrets.ts';
import { secretSet } from '../../../src/output/redact.ts';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';
import { renderTrentoAlloy } from '../../../src/render/trento-alloy.ts';
import { usedSecrets } from '../../../src/settings/used-secrets.ts';
import { factsServiceUrl } from '../../../src/settings/validate.ts';
import type { AgentConfig } from '../../../src/settings/agent-config.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/trento-agent/', import.meta.url));
const REGEX_NASTY = 'p.a*s+s?(w)[o]{r}d|$^\\1$&';

function config(secrets: { apiKey: string; password: string; token: string; rabbit: string }, other = 'plain'): AgentConfig {
  return {
    'server-url': `https://${other}.example.com`,
    'api-key': secrets.apiKey,
    'facts-service-url': factsServiceUrl({ protocol: 'amqp', username: `user-${other}`, password: secrets.rabbit, host: 'rabbit', vhost: other }),
    'prometheus-mode': 'push',
    'prometheus-exporter-name': other,
    'prometheus-url': `https://${other}.example.com/api/v1/write`,
    'prometheus-auth': 'basic',
    'prometheus-auth-username': `user-${other}`,
    'prometheus-auth-password': secrets.password,
    'prometheus-auth-bearer-token': secrets.token,
  };
}

describe('maskAgentYaml', () => {
  it('hides every secret and keeps everything else (property)', () => {
    // Secrets carry a marker that no other value has, so "does not appear" is meaningful.
    const secret = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map((s) => `§${s}`);
    const other = fc.stringMatching(/^[a-z0-9-]{1,12}$/u);
    fc.assert(
      fc.property(secret, secret, secret, secret, other, (apiKey, password, token, rabbit, plain) => {
        const cfg = config({ apiKey, password, token, rabbit }, plain);
        const masked = maskAgentYaml(renderAgentYaml(cfg));
        expect(masked).not.toContain('§');
        expect(masked).not.toContain(encodeURIComponent('§'));
        expect(parse(masked)).toEqual({
          ...cfg,
          'api-key': MASK,
          'prometheus-auth-password': MASK,
          'prometheus-auth-bearer-token': MASK,
          'facts-service-url': `amqp://user-${plain}:${MASK}@rabbit/${plain}`,
        });
      }),
      { numRuns: 300 },
    );
  });

  it("an agent.yaml the official role wrote raw: a secret YAML reads as a tag, an anchor or a value and a comment, a URL password with a '/', is masked whole", () => {
    for (const raw of ['s3cret #2024!', '&anc rest', '!tag rest', '&a', '!x', 'a #b']) {
      const masked = maskAgentYaml(`log-level: info\nprometheus-auth-password: ${raw}\nserver-url: https://trento\n`);
      expect(masked, raw).toBe(`log-level: info\nprometheus-auth-password: "${MASK}"\nserver-url: https://trento\n`);
    }
    for (const password of ['ab/cd', 'ab?cd', 'pa #ss']) {
      expect(maskAgentYaml(`facts-service-url: amqp://trento:${password}@192.0.2.30/trento\n`), password).toBe(
        `facts-service-url: amqp://trento:${MASK}@192.0.2.30/trento\n`,
      );
    }
    // a flow mapping's other keys and a quoted value's comment stay
    expect(maskAgentYaml('m: {api-key: secretvalue, b: 1}\n')).toBe(`m: {api-key: "${MASK}", b: 1}\n`);
    expect(maskAgentYaml("api-key: 'k' # note\n")).toBe(`api-key: "${MASK}" # note\n`);
  });

  it('masks an old hand-written file in any YAML style and keeps the rest byte for byte', () => {
    const old = [
      '# old file, written by hand',
      "api-key: 'it''s-a-key' # comment stays",
      'server-url: http://old.example.com',
      'facts-service-url: amqp://guest:p@ss@old-rabbit:5672/',
      'prometheus-auth-password: |',
      '  multi',
      '  line',
      'prometheus-auth-bearer-token: >-',
      '  folded',
      'log-level: debug',
      '',
    ].join('\n');
    expect(maskAgentYaml(old)).toBe(
      [
        '# old file, written by hand',
        `api-key: "${MASK}" # comment stays`,
        'server-url: http://old.example.com',
        `facts-service-url: amqp://guest:${MASK}@old-rabbit:5672/`,
        `prometheus-auth-password: "${MASK}"`,
        `prometheus-auth-bearer-token: "${MASK}"`,
        'log-level: debug',
        '',
      ].join('\n'),
    );
  });

  it('masks a file that is not valid YAML line by line', () => {
    const broken = 'api-key: "unterminated\nprometheus-auth-password: a"b\nfacts-service-url: amqp://u:pw@h/v\nfoo: [\n';
    const masked = maskAgentYaml(broken);
    expect(masked).not.toContain('unterminated');
    expect(masked).not.toContain('a"b');
    expect(masked).not.toContain(':pw@');
    expect(masked).toContain('foo: [');
  });

  it('masks multi-line values of a broken file and the anchor behind an alias', () => {
    const broken = 'api-key: |\n  line-one\n  line-two\nserver-url: "x\nfoo: [\n';
    expect(maskAgentYaml(broken)).toBe(`api-key: "${MASK}"\n  ${MASK}\n  ${MASK}\nserver-url: "x\nfoo: [\n`);
    const aliased = 'common: &k the-key\napi-key: *k\n';
    expect(maskAgentYaml(aliased)).toBe(`common: &k "${MASK}"\napi-key: "${MASK}"\n`);
  });

  it('masks a key in any case, as the agent (viper) reads it, in a valid file and a broken one', () => {
    const text = 'API-KEY: old-key-9f3\nPrometheus-Auth-Password: "old-pw-7c1"\nserver-url: http://x\n';
    const masked = maskAgentYaml(text);
    expect(masked).toBe(`API-KEY: "${MASK}"\nPrometheus-Auth-Password: "${MASK}"\nserver-url: http://x\n`);
    expect(maskAgentYaml(`${text}broken: [\n`)).not.toMatch(/old-key|old-pw/);
  });

  it('masks the password in any URL setting (the server, the remote write), as in facts-service-url', () => {
    const text =
      'server-url: "https://admin:srv-pw-4e2@trento.example.com"\nprometheus-url: https://push:rw-pw-8b1@trento.example.com/prometheus/api/v1/write\n';
    const masked = maskAgentYaml(text);
    expect(masked).toBe(
      `server-url: "https://admin:${MASK}@trento.example.com"\nprometheus-url: https://push:${MASK}@trento.example.com/prometheus/api/v1/write\n`,
    );
    expect(maskAgentYaml(`${text}broken: [\n`)).not.toMatch(/srv-pw|rw-pw/);
  });

  it('masks a broken file with CR LF line endings, and a secret key inside a flow mapping, keeping each CR', () => {
    const crlf = 'server-url: https://x\r\napi-key: OLDSECRETKEY123\r\n  bad: [\r\n';
    expect(maskAgentYaml(crlf)).toBe(`server-url: https://x\r\napi-key: "${MASK}"\r\n  ${MASK}\r\n`);
    const flow = '{api-key: OLDSECRETKEY123, server-url: x\nfoo: [\n';
    expect(maskAgentYaml(flow)).toBe(`${MASK}\nfoo: [\n`);
  });

  it("masks a key's value in a comment line too (an admin's note of the key before a rotation), in a valid file and a broken one", () => {
    const old =
      '# api-key: OldKeyAAAA1111\n#facts-service-url: amqp://trento:OldRabbitPw9@host/v\n  ## API-KEY: "OldPw"\r\n# a note: keep\nserver-url: http://x\n';
    const masked = maskAgentYaml(old);
    expect(masked).toBe(
      `# api-key: "${MASK}"\n#facts-service-url: amqp://trento:${MASK}@host/v\n  ## API-KEY: "${MASK}"\r\n# a note: keep\nserver-url: http://x\n`,
    );
    expect(maskAgentYaml(`${old}broken: [\n`)).not.toMatch(/OldKey|OldRabbitPw9|OldPw/);
  });

  it('leaves a file without secrets unchanged', () => {
    const text = renderAgentYaml({ 'prometheus-mode': 'pull', 'server-url': 'http://x', 'facts-service-url': 'amqp://h/v' });
    expect(maskAgentYaml(text)).toBe(text);
  });
});

describe('maskAlloy', () => {
  it('hides password and bearer_token, escaped or not, and nothing else', () => {
    const golden = readFileSync(`${FIXTURES}basic.golden`, 'utf8');
    const masked = maskAlloy(golden);
    expect(masked).not.toContain('s3cret');
    const diff = golden.split('\n').filter((line, i) => line !== masked.split('\n')[i]);
    expect(diff).toEqual(['            password = "s3cret"']);
    const base = parse(readFileSync(`${FIXTURES}bearer.inputs.yaml`, 'utf8')) as AgentConfig;
    const token = `tok"\\${REGEX_NASTY}`;
    const withToken = renderTrentoAlloy({ ...base, 'prometheus-auth-bearer-token': token }, 'id');
    expect(maskAlloy(withToken)).toContain(`bearer_token = "${MASK}"`);
    expect(maskAlloy(withToken)).not.toContain('p.a*s+s');
    // The upstream generator does not escape: a stray quote must not leave part of the secret.
    expect(maskAlloy('        password = "ab"cd"\n')).toBe(`        password = "${MASK}"\n`);
    // A password in the endpoint's URL, sent by Alloy as basic auth.
    expect(maskAlloy('          url = "https://push:rw-pw@8b1@trento.example.com/api/v1/write"\n')).toBe(
      `          url = "https://push:${MASK}@trento.example.com/api/v1/write"\n`,
    );
    // An escaped quote does not end the password (the validator refuses such a URL, as Go does;
    // the mask does not lean on it).
    expect(maskAlloy('          url = "https://push:rw\\"pw@trento.example.com/api/v1/write"\n')).toBe(
      `          url = "https://push:${MASK}@trento.example.com/api/v1/write"\n`,
    );
    // nor does a backslash before the @ that ends it
    expect(maskAlloy('          url = "https://push:rw-pw\\@trento.example.com/api/v1/write"\n')).toBe(
      `          url = "https://push:${MASK}@trento.example.com/api/v1/write"\n`,
    );
  });

  it("hides the credentials an older or site trento.alloy holds elsewhere (a rotated one is in no run's list)", () => {
    const old = [
      '    authorization {',
      '      type        = "Bearer"',
      '      credentials = "OLDTOKEN123"',
      '    }',
      '    oauth2 {',
      '      client_id     = "trento"',
      '      client_secret = "OLDCS-456"',
      '    }',
      '    tls_config {',
      '      key_pem  = "-----BEGIN PRIVATE KEY-----"',
      '      key_file = "/etc/alloy/client.key"',
      '    }',
      '    headers = {',
      '      "Authorization" = "Bearer OLD-HEADER-789",',
      '      "X-Tenant"      = "sap",',
      '    }',
      '',
    ].join('\n');
    const masked = maskAlloy(old);
    expect(masked).not.toMatch(/OLDTOKEN123|OLDCS-456|BEGIN PRIVATE|OLD-HEADER-789/);
    for (const kept of ['type        = "Bearer"', 'client_id     = "trento"', 'key_file = "/etc/alloy/client.key"', '"X-Tenant"      = "sap",']) {
      expect(masked).toContain(kept);
    }
    expect(masked).toContain(`"Authorization" = "${MASK}",`);
    // the same on one line, inside a block or a map
    const inline = maskAlloy(
      '    headers = { "X-Scope" = "a", "Authorization" = "Bearer SECRETTOKEN123" }\n    oauth2 { client_id = "t", client_secret = "SECRETOAUTH" }\n',
    );
    expect(inline).toBe(`    headers = { "X-Scope" = "a", "Authorization" = "${MASK}" }\n    oauth2 { client_id = "t", client_secret = "${MASK}" }\n`);
    // Alloy's raw strings
    expect(maskAlloy('    oauth2 { client_id = "t", client_secret = `RAW-SECRET-1` }\n')).toBe(`    oauth2 { client_id = "t", client_secret = "${MASK}" }\n`);
    // commented out, sigv4's secret key, a proxy's password, a header given as a list
    const more = [
      '    // password = "OLD-COMMENTED-1"',
      '    /* bearer_token = OLD-COMMENTED-2 */',
      '    sigv4 {',
      '      access_key = "AKIA-KEEP"',
      '      secret_key = "OLD-SIGV4-3"',
      '    }',
      '    proxy_url = "http://proxyuser:OLD-PROXY-4@proxy:3128"',
      '    headers = {',
      '      "Authorization" = ["Bearer OLD-LIST-5"],',
      '    }',
      '',
    ].join('\n');
    const moreMasked = maskAlloy(more);
    expect(moreMasked).not.toMatch(/OLD-COMMENTED-1|OLD-COMMENTED-2|OLD-SIGV4-3|OLD-PROXY-4|OLD-LIST-5/);
    for (const kept of ['access_key = "AKIA-KEEP"', 'proxy_url = "http://proxyuser:', `"Authorization" = "${MASK}",`]) expect(moreMasked).toContain(kept);
    expect(moreMasked.split('\n')).toHaveLength(more.split('\n').length);
  });

  it('a raw string spanning lines (a PEM in key_pem, a password) is masked to its closing backtick, line for line; an unclosed one to the end', () => {
    const old = [
      'tls_config {',
      '  key_pem = `-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      '-----END PRIVATE KEY-----` // rotated',
      '  ca_pem = `-----BEGIN CERTIFICATE-----',
      'MIIBkTCB+wIJAKHHIG',
      '-----END CERTIFICATE-----`',
      '}',
      'headers = { ',
      '  "Authorization" = `Bearer',
      'TOKEN-ON-ITS-OWN-LINE`,',
      '}',
      '  password = `secret-rotated',
      'in-2025',
    ].join('\n');
    const masked = maskAlloy(old);
    for (const leaked of ['MIIEvQ', 'TOKEN-ON-ITS-OWN-LINE', 'secret-rotated', 'in-2025']) expect(masked, leaked).not.toContain(leaked);
    // the same number of lines (a diff keeps its shape), a certificate left as it is
    expect(masked.split('\n')).toHaveLength(old.split('\n').length);
    expect(masked).toContain(`  key_pem = "${MASK}"\n${MASK}\n${MASK} // rotated\n  ca_pem = \`-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHHIG\n`);
  });
});

// secretValues() and redact() were used by tests only, and redact() masked 3-letter values
// in free text, which the output never did: the run's one SecretSet replaces both.
describe('the secret set on config values', () => {
  const cfg = config({ apiKey: 'KEY', password: REGEX_NASTY, token: 'TOKEN', rabbit: 'r@b/bit-rabbit' });
  const set = secretSet([cfg['api-key']!, cfg['prometheus-auth-password']!, cfg['prometheus-auth-bearer-token']!, 'r@b/bit-rabbit']);

  it('agent.yaml keys of the secret rows are the credentials', () => {
    expect([...SECRET_AGENT_KEYS].sort()).toEqual(['api-key', 'prometheus-auth-bearer-token', 'prometheus-auth-password']);
  });

  it('redacts values with regular-expression metacharacters and the facts password in both forms, and nothing else', () => {
    const text = `error: auth ${REGEX_NASTY} failed for KEY; pXa*s stays; KEYS? ${cfg['facts-service-url']} r@b/bit-rabbit`;
    // KEY and TOKEN are under MIN_FREE_TEXT_SECRET: masked by field only (maskAgentYaml above).
    expect(set.redact(text)).toBe(`error: auth ${MASK} failed for KEY; pXa*s stays; KEYS? amqp://user-plain:${MASK}@rabbit/plain ${MASK}`);
  });

  it("masks a password with control or invisible characters as the toolkit's own files spell it (YAML's \\a and \\N, Alloy's \\u0085), echoed by a host", () => {
    for (const password of ['bel\x07here12345', 'nel\x85here12345', 'sep\u2028here12345', 'c1\x90here12345']) {
      const withIt = config({ apiKey: 'KEY', password, token: 'TOKEN', rabbit: 'rabbit-pass' });
      const shown = `${renderAgentYaml(withIt)}\n${renderTrentoAlloy(withIt, 'id')}`;
      expect(shown, JSON.stringify(password)).toContain('here12345');
      expect(secretSet([password]).redact(shown), JSON.stringify(password)).not.toContain('here12345');
    }
  });

  it('masks URL passwords up to the last @ of the authority', () => {
    expect(maskUrlPassword('amqp://u:p@ss@h/v')).toBe(`amqp://u:${MASK}@h/v`);
    expect(maskUrlPassword('https://u:pw-long-1@trento?x=a@b/w')).toBe(`https://u:${MASK}@trento?x=a@b/w`);
    expect(maskUrlPassword('amqp://h/v')).toBe('amqp://h/v');
  });
});

describe('secret variables', () => {
  it('lists the credentials of the inventory', () => {
    for (const name of [
      'agent_web_api_key',
      'agent_rabbitmq_password',
      'agent_prometheus_auth_password',
      'agent_prometheus_auth_bearer_token',
      'ansible_become_password',
      'ansible_password',
      'trento_api_key',
      'rabbitmq_password',
    ]) {
      expect(SECRET_VARIABLES).toContain(name);
    }
  });

  // The name pattern (vault_*_api_key, smtp_password...) is gone: the table and Ansible's
  // connection variables decide, and a vaulted value is secret whatever its name.
  it("are the table's secret rows and Ansible's passwords, nothing else", () => {
    for (const name of [
      'agent_prometheus_auth',
      'agent_prometheus_auth_username',
      'trento_server_name',
      'ansible_host',
      'agent_prometheus_tls_client_key',
      'ansible_ssh_private_key_file',
      'smtp_password',
    ]) {
      expect(SECRET_VARIABLES).not.toContain(name);
    }
    expect(usedSecrets({ ansible_become_password: 'sudo pw', ansible_host: 'h', agent_web_api_key: 42, x_token: '{{ t }}' }, {}).map((s) => s.value)).toEqual([
      '42',
      'sudo pw',
    ]);
  });
});
