import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateTemplate, UNDEFINED } from '../../../src/settings/jinja-lite.ts';
import { loadRoleDefaults, MODE_ROLES, resolveVars } from '../../../src/settings/defaults.ts';
import { VARIABLES } from '../../../src/settings/variables.ts';

const lookupIn = (vars: Record<string, unknown>) => (name: string) => (Object.hasOwn(vars, name) ? vars[name] : UNDEFINED);

describe('evaluateTemplate (Jinja subset)', () => {
  it.each([
    ['{{ a }}', { a: 'x' }, 'x'],
    ['{{ a }}', { a: true }, true],
    ['http://{{ a }}:{{ p }}/x', { a: 'h', p: 80 }, 'http://h:80/x'],
    ["{{ a | default('d') }}", {}, 'd'],
    ["{{ a | default('d') }}", { a: '' }, ''],
    ["{{ a | default('d', true) }}", { a: '' }, 'd'],
    ["{{ a | d(b) | default('c') }}", { b: 'B' }, 'B'],
    ["{{ u | default('http://' ~ n) }}", { n: 'srv' }, 'http://srv'],
    ["{{ u | default('http://' ~ n) }}", {}, UNDEFINED],
    ['{{ a ~ "-" ~ b }}', { a: 1, b: 2 }, '1-2'],
    ['{{ (a ~ b) | upper }}', { a: 'x', b: 'y' }, 'XY'],
    ['pre {{ missing }} post', {}, UNDEFINED],
    ['no template', {}, 'no template'],
    // As ansible-core renders them: `+` adds numbers and joins strings; `~` writes Python's str().
    ['{{ 22 + 1 }}', {}, 23],
    ['{{ p + 1 }}', { p: 2200 }, 2201],
    ["{{ 'a' + b }}", { b: 'c' }, 'ac'],
    ["{{ 'x' ~ true }}", {}, 'xTrue'],
    ["{{ 'v' ~ none }}", {}, 'vNone'],
    ['{{ b | string }}', { b: false }, 'False'],
    ["{{ 'a\\nb' }}", {}, 'a\nb'],
    // As ansible-core 2.14 renders them: None among text is nothing (finalize), a comment is
    // nothing, and default(x, true) replaces whatever Python finds false.
    ['x{{ n }}y', { n: null }, 'xy'],
    ['abc{# a comment #}def', {}, 'abcdef'],
    ["{{ z | default('d', true) }}", { z: 0 }, 'd'],
    ["{{ z | default('d', true) }}", { z: [] }, 'd'],
    // Python's truthiness for default's second argument; `~` binds tighter than `+`; an
    // unknown escape kept as Python keeps it; Object's own names are variables like any other.
    ["{{ z | default('d', 1) }}", { z: '' }, 'd'],
    ["{{ z | default('d', 0) }}", { z: '' }, ''],
    ["{{ 'a' ~ 'b' + 'c' }}", {}, 'abc'],
    ["{{ 'a\\db' }}", {}, 'a\\db'],
    ['{{ constructor }}', { constructor: 'set' }, 'set'],
    ['{{ toString }}', {}, UNDEFINED],
  ])('%s with %j', (text, vars, expected) => {
    const result = evaluateTemplate(text, lookupIn(vars));
    expect(result).toMatchObject({ ok: true, value: expected });
  });

  it.each([
    "{{ lookup('env', 'X') }}",
    '{{ a | b64decode }}',
    '{{ a if b else c }}',
    '{% if a %}x{% endif %}',
    '{{ a + }}',
    '{{ a.b }}',
    '{{ a + 1 }}',
    // what Jinja evaluates otherwise (or refuses): 1 + '23'; a float's text; a leading zero;
    // digits past 2^53; Python's escapes; a list written among text
    '{{ 1 + 2 ~ 3 }}',
    '{{ 1.0 }}',
    '{{ 07 }}',
    '{{ 12345678901234567890 }}',
    "{{ 'pa\\x24' }}",
    'x{{ l }}',
  ])('refuses %s', (text) => {
    expect(evaluateTemplate(text, lookupIn({ a: 'x', l: ['a', 'b'] })).ok).toBe(false);
  });

  it('lists the variables it read', () => {
    expect(evaluateTemplate('{{ a | default(b) }}', lookupIn({}))).toMatchObject({ refs: ['a', 'b'] });
  });
});

describe('role defaults', () => {
  const defaults = loadRoleDefaults();

  it('reads the three roles from roles/*/defaults/main.yml', () => {
    expect(defaults.trento_agent.file).toBe('roles/trento_agent/defaults/main.yml');
    expect(defaults.alloy.values.agent_prometheus_scrape_interval).toBe('15s');
    expect(defaults.trento_agent.values.agent_prometheus_auth).toBe('{{ trento_prometheus_auth }}');
    expect(defaults.trento_agent.values.trento_prometheus_auth).toBe('');
    expect(defaults.node_exporter.values.agent_prometheus_exporter_name).toBe('node_exporter');
    expect(defaults.trento_agent.values.agent_install_monitoring_dep).toBe(true);
  });

  it('only uses names of the variable table', () => {
    const known = new Set(VARIABLES.map((v) => v.name));
    for (const role of Object.values(defaults)) {
      for (const name of Object.keys(role.values)) expect(known, `${role.file}: ${name}`).toContain(name);
    }
  });

  it('applies the mode role only in its mode', () => {
    const pull = resolveVars({}, {}, MODE_ROLES.pull, defaults);
    const push = resolveVars({}, {}, MODE_ROLES.push, defaults);
    expect(pull.get('agent_prometheus_exporter_name')).toBe('node_exporter');
    expect(push.get('agent_prometheus_exporter_name')).toBe('grafana_alloy');
    expect(pull.get('agent_prometheus_auth')).toBeUndefined();
  });

  it('lets the inventory win over defaults, null and "" meaning unset', () => {
    const r = resolveVars(
      { agent_prometheus_auth: 'none', agent_prometheus_scrape_interval: null },
      { agent_prometheus_auth: 'g.yml' },
      MODE_ROLES.push,
      defaults,
    );
    expect(r.get('agent_prometheus_auth')).toBe('none');
    expect(r.origin('agent_prometheus_auth')).toBe('g.yml');
    expect(r.get('agent_prometheus_scrape_interval')).toBeUndefined();
  });

  it('reports a variable that refers to itself', () => {
    const r = resolveVars({ a_x: '{{ a_y }}', a_y: '{{ a_x }}' }, {}, [], defaults);
    expect(r.get('a_x')).toBeUndefined();
    expect(r.problems()[0]?.message).toMatch(/refers to itself/u);
  });

  it('reads another roles folder and names its files in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roles-'));
    for (const role of ['trento_agent', 'node_exporter', 'alloy', 'supportutils']) {
      mkdirSync(join(dir, role, 'defaults'), { recursive: true });
      writeFileSync(join(dir, role, 'defaults', 'main.yml'), role === 'alloy' ? '- not a mapping\n' : '---\n');
    }
    expect(() => loadRoleDefaults(dir)).toThrow(/alloy\/defaults\/main\.yml must be a YAML mapping/u);
  });

  it('reads them as Ansible does (YAML 1.1), like the inventories', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roles-'));
    for (const role of ['trento_agent', 'node_exporter', 'alloy', 'supportutils']) {
      mkdirSync(join(dir, role, 'defaults'), { recursive: true });
      writeFileSync(join(dir, role, 'defaults', 'main.yml'), role === 'supportutils' ? 'supportutils_enabled: no\nsupportutils_update_cache: On\n' : '---\n');
    }
    expect(loadRoleDefaults(dir).supportutils.values).toEqual({ supportutils_enabled: false, supportutils_update_cache: true });
  });
});
