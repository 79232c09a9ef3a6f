// Bad input: every case ends in a clear error (a known error type that names the file or the
// variable) before any host is touched; nothing throws anything else. Values with shell and
// YAML metacharacters are data: they render back exactly (the lab tests show they never run).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CliError, parseCli } from '../../../src/cli/args.ts';
import { parseFacts } from '../../../src/facts/parse.ts';
import { parseOsRelease } from '../../../src/facts/sources/host.ts';
import { FactsError } from '../../../src/facts/types.ts';
import { InventoryError, loadInventory, parseExtraVars } from '../../../src/inventory/index.ts';
import { platformOf } from '../../../src/platform.ts';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';
import { agentConfigFor, validateHostVars } from '../../../src/settings/validate.ts';

const GOOD = {
  agent_web_api_key: 'key',
  agent_trento_server_url: 'https://trento.example.com',
  agent_rabbitmq_password: 'r',
  agent_prometheus_remote_write_url: 'https://trento.example.com/prometheus/api/v1/write',
  agent_prometheus_auth: 'none',
};
const origins = (vars: Record<string, unknown>) => Object.fromEntries(Object.keys(vars).map((k) => [k, 'inventories/prod/group_vars/all.yml']));

function inventoryDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tp-bad-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Settings cases: [vars over GOOD, mode, variable named, message pattern]. */
const SETTINGS: [string, Record<string, unknown>, 'pull' | 'push', string, RegExp][] = [
  [
    'push without URL',
    { agent_prometheus_remote_write_url: undefined },
    'push',
    'agent_prometheus_remote_write_url',
    /prometheus-url is required when prometheus-mode is 'push'|not set|required/,
  ],
  [
    'basic without username',
    { agent_prometheus_auth: 'basic', agent_prometheus_auth_password: 'p' },
    'push',
    'agent_prometheus_auth_username',
    /username is required for basic authentication/,
  ],
  [
    'basic without password',
    { agent_prometheus_auth: 'basic', agent_prometheus_auth_username: 'u' },
    'push',
    'agent_prometheus_auth_password',
    /password is required for basic authentication/,
  ],
  ['bearer without token', { agent_prometheus_auth: 'bearer' }, 'push', 'agent_prometheus_auth_bearer_token', /bearer token is required/],
  [
    'mtls without cert',
    { agent_prometheus_auth: 'mtls', agent_prometheus_tls_client_key: '/k' },
    'push',
    'agent_prometheus_tls_client_cert',
    /client certificate is required/,
  ],
  [
    'mtls without key',
    { agent_prometheus_auth: 'mtls', agent_prometheus_tls_client_cert: '/c' },
    'push',
    'agent_prometheus_tls_client_key',
    /client key is required/,
  ],
  [
    'unknown auth',
    { agent_prometheus_auth: 'kerberos' },
    'push',
    'agent_prometheus_auth',
    /invalid auth method: kerberos \(valid values: none, basic, bearer, mtls\)/,
  ],
  ['unknown mode', { agent_prometheus_mode: 'poll' }, 'pull', 'agent_prometheus_mode', /pull|push/],
  ['mode conflicting with the platform', { agent_prometheus_mode: 'push' }, 'pull', 'agent_prometheus_mode', /asks for push mode/],
  ['duration with a space', { agent_prometheus_scrape_interval: '15 s' }, 'push', 'agent_prometheus_scrape_interval', /duration/i],
  ['negative duration', { agent_prometheus_scrape_interval: '-1s' }, 'push', 'agent_prometheus_scrape_interval', /./],
  ['zero duration', { agent_prometheus_scrape_interval: '0s' }, 'push', 'agent_prometheus_scrape_interval', /./],
  ['bare number duration', { agent_prometheus_scrape_interval: '15' }, 'push', 'agent_prometheus_scrape_interval', /./],
  ['word duration', { agent_prometheus_scrape_interval: 'fast' }, 'push', 'agent_prometheus_scrape_interval', /./],
  ['server URL without scheme', { agent_trento_server_url: 'trento.example.com' }, 'pull', 'agent_trento_server_url', /URL|http/i],
  ['server URL with ftp', { agent_trento_server_url: 'ftp://trento' }, 'pull', 'agent_trento_server_url', /http/i],
  ['remote-write URL with spaces', { agent_prometheus_remote_write_url: 'https://a b/x' }, 'push', 'agent_prometheus_remote_write_url', /./],
  ['amqp protocol unknown', { agent_amqp_protocol: 'mqtt' }, 'pull', 'agent_amqp_protocol', /amqp/],
  ['api key missing', { agent_web_api_key: undefined }, 'pull', 'agent_web_api_key', /./],
  ['api key with spaces', { agent_web_api_key: 'a b' }, 'pull', 'agent_web_api_key', /./],
  ['api key as a list', { agent_web_api_key: ['a'] }, 'pull', 'agent_web_api_key', /./],
  ['password as a mapping', { agent_rabbitmq_password: { a: 1 } }, 'pull', 'agent_rabbitmq_password', /./],
  [
    'relative CA path',
    { agent_prometheus_auth: 'none', agent_prometheus_tls_ca_cert: 'certs/ca.crt' },
    'push',
    'agent_prometheus_tls_ca_cert',
    /absolute|path/i,
  ],
  ['misspelt variable', { agent_prometheus_auht: 'bearer' }, 'pull', 'agent_prometheus_auht', /did you mean agent_prometheus_auth/],
  ['misspelt api key variable', { agent_web_apikey: 'x' }, 'pull', 'agent_web_apikey', /did you mean agent_web_api_key/],
  ['install flag not a bool', { agent_install_monitoring_dep: 'maybe' }, 'pull', 'agent_install_monitoring_dep', /./],
  ['very long URL', { agent_trento_server_url: `https://${'a'.repeat(70_000)}.example.com` }, 'pull', 'agent_trento_server_url', /./],
];

describe('bad settings: one clear error naming the variable and its file', () => {
  it.each(SETTINGS)('%s', (_name, over, mode, variable, message) => {
    const vars: Record<string, unknown> = { ...GOOD };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete vars[k];
      else vars[k] = v;
    }
    const errors = [...validateHostVars(vars, origins(vars)), ...agentConfigFor(vars, origins(vars), mode).errors];
    const mine = errors.filter((e) => e.variable === variable);
    expect(mine.length, JSON.stringify(errors)).toBeGreaterThanOrEqual(1);
    expect(mine[0]!.message).toMatch(message);
    expect(mine[0]!.origin).toMatch(/group_vars\/all\.yml|not set|defaults/);
  });
});

/** Inventory cases: files, and what the error must name. */
const INVENTORIES: [string, Record<string, string | Buffer>, RegExp][] = [
  ['YAML syntax error', { 'hosts.yml': 'all:\n  hosts:\n    a: {ansible_host: [\n' }, /hosts\.yml/],
  ['YAML hosts as a list', { 'hosts.yml': 'all:\n  hosts:\n    - a\n    - b\n' }, /hosts\.yml/],
  ['INI unclosed quote', { hosts: '[agents]\na ansible_host="10.0.0.1\n' }, /hosts:2/],
  ['INI bad range', { hosts: '[agents]\nweb[01:]\n' }, /hosts:2/],
  ['INI bad section', { hosts: '[agents\na\n' }, /hosts:1/],
  ['INI var without =', { hosts: '[agents]\na ansible_host\n' }, /hosts:2/],
  ['INI unknown section type', { hosts: '[agents:bogus]\na\n' }, /hosts:1/],
  ['INI children of an undefined group', { hosts: '[all:children]\nmissing\n[x:children]\n' }, /hosts/],
  ['group_vars syntax error', { hosts: '[agents]\na\n', 'group_vars/agents.yml': 'x: [\n' }, /group_vars\/agents\.yml/],
  ['group_vars as a list', { hosts: '[agents]\na\n', 'group_vars/agents.yml': '- a\n- b\n' }, /group_vars\/agents\.yml/],
  ['non-UTF-8 bytes', { hosts: Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0xff, 0xfe, 0x0a]) }, /hosts/],
  ['a plugin config', { 'hosts.yml': 'plugin: aws_ec2\n' }, /hosts\.yml/],
];

describe('bad inventories: an InventoryError naming the file (and line)', () => {
  it.each(INVENTORIES)('%s', async (_name, files, where) => {
    const dir = inventoryDir(files);
    const error = await loadInventory(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InventoryError);
    expect(String((error as Error).message)).toMatch(where);
  });

  it('a missing inventory path', async () => {
    await expect(loadInventory('/nonexistent/inventory')).rejects.toBeInstanceOf(InventoryError);
  });
});

describe('bad command lines and extra vars', () => {
  const cli = (args: string[]) => () => parseCli(args, {}, process.cwd());
  it.each([
    ['no inventory', [] as string[]],
    ['unknown inventory name', ['-i', 'no-such-inventory-name']],
    ['forks zero', ['-i', '.', '-f', '0']],
    ['forks not a number', ['-i', '.', '-f', 'many']],
    ['unknown flag', ['-i', '.', '--frobnicate']],
    ['timeout negative', ['-i', '.', '--timeout', '-3']],
  ])('%s', (_name, args) => expect(cli(args)).toThrow(CliError));

  it('--purge without --uninstall is a provision run that also removes a retired node_exporter (SLES 15 -> 16)', () => {
    expect(parseCli(['-i', '.', '--purge'], {}, process.cwd())).toMatchObject({ purge: true, uninstall: false });
  });

  it.each([
    ['@missing file', ['@/nonexistent/vars.yml']],
    ['broken JSON', ['{"a": ']],
    ['broken YAML list', ['[a, b']],
  ])('extra vars: %s', (_name, args) => expect(() => parseExtraVars(args, process.cwd())).toThrow(InventoryError));
});

describe('parsers never fail with anything but a clear error (fuzz)', () => {
  it('os-release: any text parses to a record, and the platform table always answers', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ maxLength: 40 }), (text, base) => {
        const os = parseOsRelease(text);
        const p = platformOf({ osRelease: os, baseProduct: base });
        expect(typeof p.supported).toBe('boolean');
        if (!p.supported) expect(p.refusal).toBeTruthy();
      }),
      { numRuns: 500 },
    );
  });

  it('facts output: any text is facts or a FactsError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        try {
          parseFacts(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FactsError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('settings: any values give SettingErrors, never an exception', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })),
    );
    const keys = [
      'agent_web_api_key',
      'agent_prometheus_auth',
      'agent_prometheus_scrape_interval',
      'agent_prometheus_remote_write_url',
      'agent_trento_server_url',
      'agent_rabbitmq_password',
      'agent_prometheus_mode',
      'trento_server_name',
      'agent_prometheus_auth_password',
    ];
    // The random values alone never make a valid configuration: half the runs lay them over a
    // valid one (GOOD with its RabbitMQ host), so that what validation accepts is rendered and
    // read back too, and the renders are counted (a property whose render half never ran proves
    // nothing of it).
    const valid = { ...GOOD, agent_rabbitmq_host: 'rabbitmq.example.com' };
    let rendered = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value), fc.constantFrom('pull' as const, 'push' as const), fc.boolean(), (random, mode, overGood) => {
        const vars = overGood ? { ...valid, ...random } : random;
        const o = origins(vars);
        expect(Array.isArray(validateHostVars(vars, o))).toBe(true);
        const { config, errors } = agentConfigFor(vars, o, mode);
        if (errors.length > 0) return;
        rendered++;
        expect(parseYaml(renderAgentYaml(config))).toMatchObject({ 'prometheus-mode': mode });
      }),
      { numRuns: 300 },
    );
    // ~1 in 8 of the runs over the valid settings stays valid (~20 of 300): 5 or fewer is a
    // chance of about 1 in 10^5, so a smaller count means the render half stopped running.
    expect(rendered, 'runs whose settings validation accepted (rendered and read back)').toBeGreaterThan(5);
  });

  it('inventories: any INI or YAML text loads or fails with an InventoryError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.boolean(), async (text, yaml) => {
        const dir = inventoryDir({ [yaml ? 'hosts.yml' : 'hosts']: text });
        try {
          await loadInventory(dir);
        } catch (e) {
          expect(e).toBeInstanceOf(InventoryError);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('extra vars: any -e text is vars or an InventoryError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        try {
          parseExtraVars([text], process.cwd());
        } catch (e) {
          expect(e).toBeInstanceOf(InventoryError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
