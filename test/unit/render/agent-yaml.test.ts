import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse, parseDocument } from 'yaml';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';
import { yamlDoubleQuoted } from '../../../src/render/yaml-string.ts';
import type { AgentConfig } from '../../../src/settings/agent-config.ts';
import { AGENT_YAML_KEYS } from '../../../src/settings/agent-config.ts';

const NASTY = [
  'with "quotes"',
  "single 'quote'",
  'back\\slash',
  'two\nlines',
  'trailing newline\n',
  '$(reboot)',
  '`id`',
  'a; rm -rf /',
  '# not a comment',
  'value # comment',
  '*alias',
  '&anchor',
  '!tag',
  'yes',
  'no',
  'null',
  '~',
  'true',
  'on',
  '0x10',
  '1e3',
  '012',
  '',
  ' leading space',
  'trailing space ',
  'key: value',
  '- item',
  '[flow]',
  '{map}',
  '|',
  '>',
  '%YAML',
  '---',
  '...',
  '@at',
  '\t tab',
  'é ü 日本 🚀',
  '\u2028sep',
  '\x00nul\x7fdel\x85nel',
  '\r\n',
];

const push: AgentConfig = {
  'server-url': 'https://trento.example.com',
  'api-key': 'key',
  'facts-service-url': 'amqp://trento:p%40ss@rabbit/trento',
  'prometheus-mode': 'push',
  'prometheus-exporter-name': 'grafana_alloy',
  'prometheus-url': 'https://trento.example.com/prometheus/api/v1/write',
  'prometheus-scrape-interval': '15s',
  'prometheus-auth': 'bearer',
  'prometheus-auth-bearer-token': 'tok',
};

describe("yamlDoubleQuoted: characters a libyaml-based parser (the agent's go-yaml v3) takes for line breaks", () => {
  it('escapes NEL, LS and PS, so the agent reads the value, not a folded space', () => {
    expect(yamlDoubleQuoted('pa\x85ss')).toBe('"pa\\Nss"');
    expect(yamlDoubleQuoted('a\u2028b\u2029c')).toBe('"a\\u2028b\\u2029c"');
    // PyYAML (Debian's python3-yaml, which setup.sh installs), a libyaml-family parser as the
    // agent's is, reads the value back unchanged. Debian's python3, whatever else is on PATH.
    const value = 'pa\x85ss\u2028x';
    const r = spawnSync(
      '/usr/bin/python3',
      ['-c', 'import sys, yaml; sys.stdout.write(yaml.safe_load(sys.stdin.read())["k"].encode("unicode_escape").decode())'],
      {
        input: `k: ${yamlDoubleQuoted(value)}\n`,
        encoding: 'utf8',
      },
    );
    expect(r.stdout, r.stderr).toBe('pa\\x85ss\\u2028x');
  });
});

describe('renderAgentYaml', () => {
  it('starts with the managed-by header and lists keys in the fixed order', () => {
    const text = renderAgentYaml(push);
    expect(text.split('\n')[0]).toMatch(/^# This file is managed by trento-provision/u);
    const keys = text
      .split('\n')
      .filter((l) => /^[a-z]/u.test(l))
      .map((l) => l.split(':')[0]);
    expect(keys).toEqual(AGENT_YAML_KEYS.filter((k) => push[k] !== undefined));
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('\n\n');
  });

  it('does not depend on the order keys were set in', () => {
    const reversed = Object.fromEntries(Object.entries(push).reverse()) as unknown as AgentConfig;
    expect(renderAgentYaml(reversed)).toBe(renderAgentYaml(push));
  });

  it('writes pull mode with only the keys given', () => {
    const text = renderAgentYaml({ 'prometheus-mode': 'pull', 'prometheus-exporter-name': 'node_exporter' });
    expect(parse(text)).toEqual({ 'prometheus-mode': 'pull', 'prometheus-exporter-name': 'node_exporter' });
  });

  it.each(NASTY)('round-trips the value %j in every key', (value) => {
    const config = Object.fromEntries(AGENT_YAML_KEYS.map((k) => [k, value])) as unknown as AgentConfig;
    const doc = parseDocument(renderAgentYaml(config));
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual(config);
  });

  it('round-trips any strings (property)', () => {
    const key = fc.constantFrom(...AGENT_YAML_KEYS);
    fc.assert(
      fc.property(fc.dictionary(key, fc.string({ unit: 'binary', maxLength: 30 }), { minKeys: 1 }), (entries) => {
        const config = entries as unknown as AgentConfig;
        const doc = parseDocument(renderAgentYaml(config));
        expect(doc.errors).toEqual([]);
        expect(doc.toJS()).toEqual(config);
      }),
      { numRuns: 400 },
    );
  });

  it('quotes scalars so YAML 1.1 parsers read strings too', () => {
    for (const value of NASTY) {
      expect(parse(`k: ${yamlDoubleQuoted(value)}`, { version: '1.1' })).toEqual({ k: value });
    }
  });
});
