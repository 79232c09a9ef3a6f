import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import { agentWritesTheSame, renderTrentoAlloy } from '../../../src/render/trento-alloy.ts';
import { alloyString } from '../../../src/render/alloy-string.ts';
import { agentIdFromMachineId } from '../../../src/settings/agent-id.ts';
import type { AgentConfig } from '../../../src/settings/agent-config.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/trento-agent/', import.meta.url));
const names = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.inputs.yaml'))
  .map((f) => f.replace(/\.inputs\.yaml$/u, ''));

function fixture(name: string): { config: AgentConfig; agentId: string; machineId?: string } {
  const { 'agent-id': agentId, 'machine-id': machineId, ...config } = parse(readFileSync(`${FIXTURES}${name}.inputs.yaml`, 'utf8')) as Record<string, string>;
  return { config: config as unknown as AgentConfig, agentId: agentId ?? agentIdFromMachineId(machineId), machineId };
}

/** Decodes an Alloy/Go string literal; throws on anything the Go scanner would reject. */
function decodeAlloyString(literal: string): string {
  if (!literal.startsWith('"') || !literal.endsWith('"') || literal.length < 2) throw new Error('not quoted');
  const body = literal.slice(1, -1);
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i]!;
    if (ch === '"' || ch === '\n') throw new Error(`raw ${JSON.stringify(ch)} inside a string at ${i}`);
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) throw new Error('dangling backslash');
    if (next in simple) {
      out += simple[next];
      i += 1;
    } else if (next === 'x' || next === 'u') {
      const width = next === 'x' ? 2 : 4;
      const digits = body.slice(i + 2, i + 2 + width);
      if (!/^[0-9a-f]+$/iu.test(digits) || digits.length !== width) throw new Error('bad hex escape');
      out += String.fromCodePoint(parseInt(digits, 16));
      i += 1 + width;
    } else {
      throw new Error(`unknown escape \\${next}`);
    }
  }
  return out;
}

describe('renderTrentoAlloy', () => {
  it('has fixtures to compare with', () => {
    expect(names.length).toBeGreaterThanOrEqual(13);
  });

  it.each(names)('is byte-identical to %s.golden', (name) => {
    const { config, agentId } = fixture(name);
    const golden = readFileSync(`${FIXTURES}${name}.golden`, 'utf8');
    expect(renderTrentoAlloy(config, agentId)).toBe(golden);
  });

  it('takes the agent ID of other-agent from its machine-id', () => {
    const { machineId, agentId } = fixture('other-agent');
    expect(machineId).toBeDefined();
    expect(agentIdFromMachineId(machineId)).toBe(agentId);
  });

  it('prints the scrape interval as a Go duration', () => {
    const { config, agentId } = fixture('bearer');
    const line = (interval: string) => /scrape_interval = (".*")/u.exec(renderTrentoAlloy({ ...config, 'prometheus-scrape-interval': interval }, agentId))?.[1];
    expect(line('1h')).toBe('"1h0m0s"');
    expect(line('90s')).toBe('"1m30s"');
    expect(line('1.5s')).toBe('"1.5s"');
  });

  it('escapes quotes and backslashes so a value cannot break out of its string', () => {
    const { config, agentId } = fixture('basic');
    const password = 'p"w\\d"\n}\nprometheus.exporter.unix "evil" {';
    const text = renderTrentoAlloy({ ...config, 'prometheus-auth-password': password }, agentId);
    const line = text.split('\n').find((l) => l.trimStart().startsWith('password ='))!;
    expect(decodeAlloyString(line.split(' = ')[1]!)).toBe(password);
    expect(text.match(/^prometheus\.exporter\.unix "/gmu)).toHaveLength(1);
    expect(text.split('\n')).toHaveLength(readFileSync(`${FIXTURES}basic.golden`, 'utf8').split('\n').length);
  });

  it("doubles a $ in a relabel replacement (Alloy expands $name there, Go's Regexp.Expand), so the label is the value as written; the agent's own file would differ", () => {
    const { config, agentId } = fixture('basic');
    const text = renderTrentoAlloy({ ...config, 'prometheus-exporter-name': 'node$exp' }, agentId);
    expect(text).toContain('replacement  = "node$$exp"');
    expect(text.split('\n')).toHaveLength(readFileSync(`${FIXTURES}basic.golden`, 'utf8').split('\n').length);
    expect(agentWritesTheSame({ ...config, 'prometheus-exporter-name': 'node$exp' }, agentId)).toBe(false);
    expect(agentWritesTheSame(config, agentId)).toBe(true);
    // Elsewhere a $ is plain text: a password keeps its one $.
    expect(renderTrentoAlloy({ ...config, 'prometheus-auth-password': 'pa$$w' }, agentId)).toContain('password = "pa$$w"');
  });

  it('writes Alloy string literals that decode to the same value (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (value) => {
        const literal = alloyString(value);
        expect(literal).not.toContain('\n');
        expect(decodeAlloyString(literal)).toBe(value);
      }),
      { numRuns: 500 },
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the data here, not a template
    for (const value of ['"', '\\', '\\"', 'a"b\\c', '\t\r\n', '${x}', '\x00\x7f', 'é ü 日本']) {
      expect(decodeAlloyString(alloyString(value))).toBe(value);
    }
  });

  it('refuses a config that is not push mode or has no URL', () => {
    expect(() => renderTrentoAlloy({ 'prometheus-mode': 'pull' }, 'x')).toThrow(/push mode/u);
    expect(() => renderTrentoAlloy({ 'prometheus-mode': 'push' }, 'x')).toThrow(/prometheus-url is required/u);
  });

  it("does not depend on the order of the config's keys (as the agent's template does not)", () => {
    const { config, agentId } = fixture('mtls');
    const reversed = Object.fromEntries(Object.entries(config).reverse()) as typeof config;
    expect(Object.keys(reversed)).not.toEqual(Object.keys(config));
    expect(renderTrentoAlloy(reversed, agentId)).toBe(renderTrentoAlloy(config, agentId));
  });
});
