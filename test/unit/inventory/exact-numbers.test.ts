// Inventory numbers from the file to the host (issue 14, item 6): an unquoted numeric secret
// longer than a JavaScript number holds reaches agent.yaml and trento.alloy with every digit,
// from INI, YAML and -e; floats stay floats. The listings are judged against ansible-inventory
// in ansible-compat.test.ts (fixture valid/exact-numbers) and python-judge.test.ts.

import { resolve } from 'node:path';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadInventory, parseExtraVars, PyFloat } from '../../../src/inventory/index.ts';
import { iniValue } from '../../../src/inventory/python-literal.ts';
import { ansibleJson, pythonStr } from '../../../src/inventory/listing.ts';
import { pythonFloatRepr } from '../../../src/inventory/numbers.ts';
import { agentConfigFor, loadRoleDefaults, usedSecrets, validateHostVars } from '../../../src/settings/index.ts';
import { renderAgentYaml } from '../../../src/render/agent-yaml.ts';
import { renderTrentoAlloy } from '../../../src/render/trento-alloy.ts';
import { ANSIBLE_PYTHON, describeWith } from '../../support/requires.ts';

const DIR = resolve(import.meta.dirname, '../../fixtures/inventories/numeric-secrets');
const API_KEY = '12345678901234567890123';
const METRICS_PASSWORD = '98765432109876543210';
const RABBIT_PASSWORD = '11112222333344445555666677';
const defaults = loadRoleDefaults();

async function hostVars(file: string, host: string, extra: string[] = []): Promise<{ vars: Record<string, unknown>; origins: Record<string, string> }> {
  const entry = (await loadInventory(resolve(DIR, file))).hosts.get(host)!;
  const e = parseExtraVars(extra, DIR);
  // An external RabbitMQ (no rabbitmq_hosts group to discover it from), as the official play wants it said.
  return { vars: { provision_rabbitmq: false, ...entry.vars, ...e.vars }, origins: { provision_rabbitmq: 'test', ...entry.origins, ...e.origins } };
}

/** agent.yaml and trento.alloy as the toolkit writes them for this host in push mode. */
function rendered({ vars, origins }: { vars: Record<string, unknown>; origins: Record<string, string> }): { agent: Record<string, string>; alloy: string } {
  expect(validateHostVars(vars, origins, defaults)).toEqual([]);
  const { config, errors } = agentConfigFor(vars, origins, 'push', defaults);
  expect(errors).toEqual([]);
  return { agent: parse(renderAgentYaml(config)) as Record<string, string>, alloy: renderTrentoAlloy(config, 'f0d3a5b2-0000-4000-8000-000000000001') };
}

describe('numeric secrets keep every digit', () => {
  it.each(['hosts.ini:ini-host', 'hosts.yml:yaml-host'])('%s: agent.yaml, trento.alloy and the secret list', async (where) => {
    const [file, host] = where.split(':') as [string, string];
    const { vars, origins } = await hostVars(file, host);
    expect(typeof vars.agent_web_api_key).toBe('bigint'); // not a rounded number, not a string
    const { agent, alloy } = rendered({ vars, origins });
    expect(agent['api-key']).toBe(API_KEY);
    expect(agent['prometheus-auth-password']).toBe(METRICS_PASSWORD);
    expect(agent['facts-service-url']).toBe(`amqp://trento:${RABBIT_PASSWORD}@localhost/trento`);
    expect(alloy).toContain(`password = "${METRICS_PASSWORD}"`);
    // The redactor must know the exact text, or the real digits would print unmasked.
    expect(usedSecrets(vars, origins, defaults).map((s) => s.value)).toEqual(expect.arrayContaining([API_KEY, METRICS_PASSWORD, RABBIT_PASSWORD]));
  });

  it.each([
    ['-e JSON', ['{"agent_web_api_key": 55556666777788889999000}']],
    ['-e YAML', ['{agent_web_api_key: 55556666777788889999000}']],
    ['-e @file', ['@extra.yml']],
    ['-e key=value', ['agent_web_api_key=55556666777788889999000']],
  ])('%s overrides the inventory with the exact digits', async (_name, extra) => {
    const { agent } = rendered(await hostVars('hosts.ini', 'ini-host', extra));
    expect(agent['api-key']).toBe('55556666777788889999000');
  });

  it('refuses a float for a text setting instead of writing a changed value', async () => {
    const { vars, origins } = await hostVars('hosts.ini', 'ini-host', ['{"agent_prometheus_auth_password": 1.10}']);
    expect(vars.agent_prometheus_auth_password).toEqual(new PyFloat(1.1));
    const { errors } = agentConfigFor(vars, origins, 'push', defaults);
    expect(errors.map((e) => e.message).join('\n')).toMatch(
      /must be a string, got a float \(quote the value where it is set: YAML and INI alike read it unquoted as this\)/,
    );
  });
});

describe('kinds as Ansible keeps them', () => {
  it('INI: ints beyond 2^53 are bigints, floats are PyFloat even when whole', () => {
    expect(iniValue('12345678901234567890')).toBe(12345678901234567890n);
    expect(iniValue('9007199254740991')).toBe(9007199254740991);
    expect(iniValue('-0x1FFFFFFFFFFFFFFFFF')).toBe(-0x1fffffffffffffffffn);
    expect(iniValue('1e3')).toEqual(new PyFloat(1000));
    expect(String(iniValue('1e3'))).toBe('1000.0');
  });

  it('listings print floats and big ints as ansible-inventory does', () => {
    expect(ansibleJson({ f: new PyFloat(1000), b: 12345678901234567890n, n: [new PyFloat(-0), new PyFloat(Infinity)] })).toBe(
      '{\n    "b": 12345678901234567890,\n    "f": 1000.0,\n    "n": [\n        -0.0,\n        Infinity\n    ]\n}',
    );
    expect(pythonStr([new PyFloat(1e16), 10n ** 20n])).toBe('[1e+16, 100000000000000000000]');
  });
});

describeWith(ANSIBLE_PYTHON, 'pythonFloatRepr against Python repr()', () => {
  it('a fixed table and random doubles', () => {
    // biome-ignore lint/correctness/noPrecisionLoss: 9007199254740993 is here because JavaScript cannot hold it exactly
    const fixed = [0, -0, 1, 1000, 0.1, 1e15, 1e16, 1e-4, 1e-5, 123456789.123456789, 1.5e300, 5e-324, Number.MAX_VALUE, -2.5, 1e22, 9007199254740993];
    const random = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { numRuns: 2000, seed: 14 });
    const values = [...fixed, ...random];
    const r = spawnSync('/usr/bin/python3', ['-c', 'import json,sys; print(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))'], {
      // As text: JSON would turn -0 into 0. String() is the shortest text that reads back exactly.
      input: JSON.stringify(values.map((x) => (Object.is(x, -0) ? '-0.0' : String(x)))),
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(values.map(pythonFloatRepr)).toEqual(JSON.parse(r.stdout));
  });
});
