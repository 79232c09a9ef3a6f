// The small parsers against the Python functions Ansible itself calls, in one python3 process:
// INI values (ast.literal_eval via the ini plugin's _parse_value), shlex.split(comments=True),
// host patterns with ranges and ports (_expand_hostpattern). Inputs are a fixed table plus
// random ones from fast-check, so the corner cases are not only the ones we thought of.

import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { ANSIBLE_PYTHON, describeWith } from '../../support/requires.ts';
import { iniValue } from '../../../src/inventory/python-literal.ts';
import { PyFloat } from '../../../src/inventory/numbers.ts';
import { shlexSplit } from '../../../src/inventory/shlex.ts';
import { expandHostPattern } from '../../../src/inventory/host-ranges.ts';

const PYTHON = '/usr/bin/python3';

const JUDGE = `
import json, sys, shlex
from ansible.plugins.inventory.ini import InventoryModule
from ansible.plugins.inventory import BaseInventoryPlugin
req = json.load(sys.stdin)
def key(k):
    # json.dumps's conversion of dict keys
    if k is True: return 'true'
    if k is False: return 'false'
    if k is None: return 'null'
    if isinstance(k, float): return repr(k)
    return str(k)
def exact(r):
    # ints and floats as their printed text, so kind and every digit are compared
    if isinstance(r, bool) or r is None or isinstance(r, str): return r
    if isinstance(r, int): return {'int': str(r)}
    if isinstance(r, float): return {'float': repr(r)}
    if isinstance(r, (list, tuple)): return [exact(x) for x in r]
    if isinstance(r, dict): return {key(k): exact(x) for k, x in r.items()}
    raise TypeError(type(r).__name__)
def ini(v):
    try:
        r = InventoryModule._parse_value(v)
    except Exception as e:
        return {'error': type(e).__name__}
    if isinstance(r, (set, frozenset, complex, bytes)): return {'skip': True}
    try:
        json.dumps(r)
        return {'value': exact(r)}
    except Exception:
        return {'skip': True}
def split(v):
    try:
        return {'value': shlex.split(v, comments=True)}
    except ValueError as e:
        return {'error': str(e)}
plugin = BaseInventoryPlugin()
def hosts(v):
    try:
        h, p = plugin._expand_hostpattern(v)
        return {'value': [h, p]}
    except Exception as e:
        return {'error': type(e).__name__}
print(json.dumps({'ini': [ini(v) for v in req['ini']], 'shlex': [split(v) for v in req['shlex']], 'hosts': [hosts(v) for v in req['hosts']]}))
`;

interface Verdict {
  value?: unknown;
  error?: string;
  skip?: boolean;
}

function judge(req: { ini: string[]; shlex: string[]; hosts: string[] }): { ini: Verdict[]; shlex: Verdict[]; hosts: Verdict[] } {
  const r = spawnSync(PYTHON, ['-c', JUDGE], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const INI_VALUES = [
  '42',
  '-7',
  '+3',
  '--5',
  '1.10',
  '1e3',
  '1E-2',
  '.5',
  '5.',
  '0x1F',
  '0o17',
  '0b101',
  '0755',
  '00',
  '1_000',
  '1__0',
  '10.0.0.1',
  'True',
  'true',
  'False',
  'None',
  'yes',
  "'42'",
  '"hello"',
  "'a' 'b'",
  '\'a\' "b"',
  "u'x'",
  "r'a\\tb'",
  "'a\\tb'",
  "b'bytes'",
  "'\\x41\\u00e9\\101'",
  "'\\d'",
  "f'x'",
  '[1, 2]',
  '[1, [2, [3]]]',
  '[]',
  '()',
  '(1)',
  '(1,)',
  '1,2',
  '1,',
  '{}',
  "{'a': 1}",
  "{'a': [True, None]}",
  '{1: 2}',
  "{True: 'x'}",
  '{1, 2}',
  '[1, 2',
  'x=y',
  'a b',
  'value # comment',
  '3 # comment',
  '# only',
  '',
  ' ',
  '  7',
  '1+2',
  '1-2j',
  '-1.5',
  'inf',
  'nan',
  '1.2.3',
  "'''triple'''",
  '"unterminated',
  'set()',
  '[1,]',
  '[,]',
  '{"a": {"b": [1, 2.5, "c"]}}',
  "{'k': 'v',}",
  '{[1]: 2}',
  '-True',
  '(1, 2, 3)',
  '((1, 2), [3])',
  '0.0',
  '-0',
  '1_0.5_0',
  // Exact ints and floats that stay floats (issue 14)
  '12345678901234567890',
  '-12345678901234567890',
  '0x1FFFFFFFFFFFFFFFFF',
  '0o7777777777777777777777',
  `0b${'1'.repeat(70)}`,
  '9007199254740993',
  '1_000_000_000_000_000_000',
  '1.0',
  '1e16',
  '1e15',
  '1e-5',
  '0.0001',
  '123456789.123456789',
  '1.5e300',
  '1e400',
  '-0.0',
  '5e-324',
  '1.7976931348623157e308',
  '0.1',
  '1e22',
  '[12345678901234567890, 2.0]',
  '{12345678901234567890: 1.0, 2.5: 3}',
];

const SHLEX_VALUES = [
  'web1',
  'web1 a=1 b=2',
  'web1 a="x y"',
  "web1 a='x y' # comment",
  'web1 a=x#y',
  'web1 #c',
  'a="b\\"c"',
  "a='b\\'c'",
  'a=b\\ c',
  'a="unclosed',
  "a='unclosed",
  'a=\\',
  'a="x"y"z"',
  'a="" b=\'\'',
  '  spaced   out  ',
  'tab\tsep',
  'a="#notcomment"',
  'a=\\#x',
  'e="\\n\\\\"',
  'x=é ü',
  '""',
  "''",
];

const HOST_PATTERNS = [
  'web1',
  'web1:2222',
  'web[01:10]',
  'web[1:10:3]',
  'db-[a:f].example.com',
  'n[1:2]-[a:b]',
  '10.0.0.[1:3]',
  '10.0.0.[1:3]:22',
  '[2001:db8::1]:2201',
  '2001:db8::1',
  'web[8:9]:2222',
  'host:notaport',
  'web[1:]',
  'web[:3]',
  'web[a:C]',
  'web[09:10]',
  'web[9:10]',
  'web[010:012]',
  'web[1:3:0]',
  'x[3:1]',
  '[a:c]',
  'web_[1:2]_',
  'web-',
  '-web',
  'h[1:2]:',
  'a..b',
  'é[1:2]',
  // Ansible's IPv6 pattern accepts what merely begins like an address (a zone index)
  '[fe80::1%eth0]:2201',
  'fe80::1%eth0',
  '[fe80::[1:3]]:22',
  '[::ffff:10.0.0.1]:22',
  '[1:2:3:4:5:6:7:8:9]:22',
  '[::zz]:22',
];

/** The Python side's `exact()`: ints and floats as their printed text. */
function exact(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'bigint') return { int: String(value) };
  if (value instanceof PyFloat) return { float: String(value) };
  if (Array.isArray(value)) return value.map(exact);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exact(v)]));
  return value;
}

const normaliseIni = (text: string): Verdict => ({ value: exact(iniValue(text)) });

describeWith(ANSIBLE_PYTHON, 'parsers against the Python functions Ansible uses', () => {
  it('INI values (literal_eval) — fixed table', () => {
    const verdicts = judge({ ini: INI_VALUES, shlex: [], hosts: [] }).ini;
    expect(verdicts).toHaveLength(INI_VALUES.length);
    INI_VALUES.forEach((v, i) => {
      const theirs = verdicts[i]!;
      if (theirs.skip) return;
      if (theirs.error) expect(() => iniValue(v), v).toThrow();
      else expect(normaliseIni(v), v).toEqual(theirs);
    });
    // Python skips only what JSON cannot carry (sets, complex numbers, bytes): most are compared.
    expect(verdicts.filter((t) => !t.skip).length).toBeGreaterThan(INI_VALUES.length * 0.8);
  });

  it('INI values with a \\N{NAME} escape: Python reads them by its table of Unicode names (a known name is the character, an unknown one leaves the text), which Node has not: refused, never read as another value', () => {
    const values = ["'\\N{BULLET}'", "'\\N{NO SUCH CHARACTER}'", "'C:\\Nodes'"];
    const [known, unknown, noName] = judge({ ini: values, shlex: [], hosts: [] }).ini;
    expect(known).toEqual({ value: '\u2022' });
    expect(unknown).toEqual({ value: "'\\N{NO SUCH CHARACTER}'" });
    for (const v of values.slice(0, 2)) expect(() => iniValue(v), v).toThrow(/^a \\N\{NAME\} escape cannot be read here; write the character itself$/);
    expect(normaliseIni(values[2]!)).toEqual(noName);
  });

  it('INI values (literal_eval) — random', () => {
    const token = fc.constantFrom(
      '1',
      '0',
      '2.5',
      '-',
      '+',
      ' ',
      ',',
      '[',
      ']',
      '(',
      ')',
      '{',
      '}',
      ':',
      "'",
      '"',
      'a',
      'True',
      'None',
      '#',
      '\\',
      'x',
      '_',
      '.',
      'e',
      'j',
      '0x',
      '=',
    );
    const samples = fc.sample(
      fc.array(token, { maxLength: 8 }).map((t) => t.join('')),
      { numRuns: 3000, seed: 42 },
    );
    const verdicts = judge({ ini: samples, shlex: [], hosts: [] }).ini;
    expect(verdicts).toHaveLength(samples.length);
    expect(verdicts.filter((t) => !t.skip).length).toBeGreaterThan(samples.length / 2);
    samples.forEach((v, i) => {
      const theirs = verdicts[i]!;
      if (theirs.skip) return;
      if (theirs.error) expect(() => iniValue(v), v).toThrow();
      else expect(normaliseIni(v), JSON.stringify(v)).toEqual(theirs);
    });
  });

  it('host lines (shlex.split with comments)', () => {
    const random = fc.sample(
      fc.array(fc.constantFrom('a', '=', ' ', '"', "'", '\\', '#', 'b', '\t', 'é'), { maxLength: 10 }).map((t) => t.join('')),
      { numRuns: 2000, seed: 7 },
    );
    const values = [...SHLEX_VALUES, ...random];
    const verdicts = judge({ ini: [], shlex: values, hosts: [] }).shlex;
    values.forEach((v, i) => {
      const theirs = verdicts[i]!;
      if (theirs.error) expect(() => shlexSplit(v), JSON.stringify(v)).toThrow(theirs.error);
      else expect(shlexSplit(v), JSON.stringify(v)).toEqual(theirs.value);
    });
  });

  it('host patterns (ranges and ports)', () => {
    const verdicts = judge({ ini: [], shlex: [], hosts: HOST_PATTERNS }).hosts;
    HOST_PATTERNS.forEach((v, i) => {
      const theirs = verdicts[i]!;
      if (theirs.error) expect(() => expandHostPattern(v), v).toThrow();
      else {
        const { hosts, port } = expandHostPattern(v);
        expect([hosts, port ?? null], v).toEqual(theirs.value);
      }
    });
  });
});
