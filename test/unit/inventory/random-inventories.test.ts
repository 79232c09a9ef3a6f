// Random inventories (INI and YAML, with children declared in any order, priorities, host
// vars, [g:vars], group_vars/ and host_vars/ files) compared with ansible-inventory --list:
// the fixture corpus covers what we thought of, this covers combinations we did not.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { describeWith } from '../../support/requires.ts';
import { loadInventory } from '../../../src/inventory/index.ts';
import { ansibleJson, inventoryList } from '../../../src/inventory/listing.ts';
import { ANSIBLE_CORE, ansibleInventoryList, exactJson, hasAnsible, removeScratch } from './ansible-judge.ts';

interface Spec {
  groups: number;
  hosts: number;
  /** host index -> group indexes */
  membership: number[][];
  /** [parent, child] with parent < child, so there is no cycle */
  edges: [number, number][];
  groupVars: [number, string, string][];
  hostVars: [number, string, string][];
  allVars: [string, string][];
  priorities: [number, number][];
  groupVarFiles: [number | 'all', string, string][];
  hostVarFiles: [number, string, string][];
  order: number[];
}

const NAMES = ['v', 'w', 'x'];
// Values written the same way in INI and YAML would type differently; each format gets its own.
const INI_VALUES = ['1', 'yes', 'True', '"q r"', "'s'", '[1,2]', '1.5', 'None', 'plain'];
const YAML_VALUES = ['1', 'yes', 'true', '"q r"', "'s'", '[1, 2]', '1.5', '~', 'plain', '{a: 1}'];

const spec: fc.Arbitrary<Spec> = fc.record({ groups: fc.integer({ min: 1, max: 6 }), hosts: fc.integer({ min: 1, max: 7 }) }).chain(({ groups, hosts }) => {
  const g = fc.integer({ min: 0, max: groups - 1 });
  const h = fc.integer({ min: 0, max: hosts - 1 });
  const name = fc.constantFrom(...NAMES);
  const value = fc.integer({ min: 0, max: 8 }).map(String);
  return fc.record({
    groups: fc.constant(groups),
    hosts: fc.constant(hosts),
    membership: fc.array(fc.uniqueArray(g, { maxLength: 3 }), { minLength: hosts, maxLength: hosts }),
    edges: fc.uniqueArray(
      fc.tuple(g, g).filter(([a, b]) => a < b),
      { maxLength: 6, selector: ([a, b]) => `${a}-${b}` },
    ),
    groupVars: fc.array(fc.tuple(g, name, value), { maxLength: 6 }),
    hostVars: fc.array(fc.tuple(h, name, value), { maxLength: 6 }),
    allVars: fc.array(fc.tuple(name, value), { maxLength: 2 }),
    priorities: fc.array(fc.tuple(g, fc.integer({ min: -2, max: 3 })), { maxLength: 2 }),
    groupVarFiles: fc.array(fc.tuple(fc.oneof(g, fc.constant('all' as const)), name, value), { maxLength: 4 }),
    hostVarFiles: fc.array(fc.tuple(h, name, value), { maxLength: 3 }),
    order: fc.shuffledSubarray([...Array(groups).keys()], { minLength: groups, maxLength: groups }),
  });
});

function writeVarFiles(dir: string, s: Spec, values: string[]): void {
  const files = new Map<string, string[]>();
  const add = (path: string, line: string): void => void files.set(path, [...(files.get(path) ?? []), line]);
  for (const [g, n, v] of s.groupVarFiles) add(`group_vars/${g === 'all' ? 'all' : `g${g}`}.yml`, `${n}: ${values[Number(v)]}`);
  for (const [h, n, v] of s.hostVarFiles) add(`host_vars/h${h}.yml`, `${n}: ${values[Number(v)]}`);
  mkdirSync(join(dir, 'group_vars'), { recursive: true });
  mkdirSync(join(dir, 'host_vars'), { recursive: true });
  for (const [path, lines] of files) writeFileSync(join(dir, path), `${[...new Set(lines)].join('\n')}\n`);
}

function writeIni(s: Spec): string {
  const dir = mkdtempSync(join(tmpdir(), 'random-ini-'));
  const lines: string[] = [];
  s.membership.forEach((groups, h) => {
    if (groups.length === 0)
      lines.push(
        `h${h} ${s.hostVars
          .filter(([x]) => x === h)
          .map(([, n, v]) => `${n}=${INI_VALUES[Number(v)]}`)
          .join(' ')}`,
      );
  });
  for (const g of s.order) {
    lines.push(`[g${g}]`);
    s.membership.forEach((groups, h) => {
      if (groups.includes(g))
        lines.push(
          `h${h} ${s.hostVars
            .filter(([x]) => x === h)
            .map(([, n, v]) => `${n}=${INI_VALUES[Number(v)]}`)
            .join(' ')}`,
        );
    });
    const children = s.edges.filter(([p]) => p === g).map(([, c]) => `g${c}`);
    if (children.length) lines.push(`[g${g}:children]`, ...children);
    const vars = s.groupVars.filter(([x]) => x === g).map(([, n, v]) => `${n}=${INI_VALUES[Number(v)]}`);
    const prio = s.priorities.filter(([x]) => x === g).map(([, p]) => `ansible_group_priority=${p}`);
    if (vars.length || prio.length) lines.push(`[g${g}:vars]`, ...vars, ...prio);
  }
  if (s.allVars.length) lines.push('[all:vars]', ...s.allVars.map(([n, v]) => `${n}=${INI_VALUES[Number(v)]}`));
  writeFileSync(join(dir, 'hosts'), `${lines.join('\n')}\n`);
  writeVarFiles(dir, s, YAML_VALUES);
  return join(dir, 'hosts');
}

function writeYaml(s: Spec): string {
  const dir = mkdtempSync(join(tmpdir(), 'random-yaml-'));
  const lines: string[] = ['all:'];
  if (s.allVars.length) lines.push('  vars:', ...s.allVars.map(([n, v]) => `    ${n}: ${YAML_VALUES[Number(v)]}`));
  const ungrouped = s.membership.map((g, h) => (g.length === 0 ? h : -1)).filter((h) => h >= 0);
  if (ungrouped.length) lines.push('  hosts:', ...ungrouped.map((h) => `    h${h}:`));
  lines.push('  children:');
  const group = (g: number, indent: string, nested: Set<number>): void => {
    lines.push(`${indent}g${g}:`);
    const hosts = s.membership.map((gs, h) => (gs.includes(g) ? h : -1)).filter((h) => h >= 0);
    if (hosts.length) {
      lines.push(`${indent}  hosts:`);
      for (const h of hosts) {
        const vars = s.hostVars.filter(([x]) => x === h);
        lines.push(`${indent}    h${h}:${vars.length ? '' : ' ~'}`, ...vars.map(([, n, v]) => `${indent}      ${n}: ${YAML_VALUES[Number(v)]}`));
      }
    }
    const vars = s.groupVars.filter(([x]) => x === g).map(([, n, v]) => `${indent}    ${n}: ${YAML_VALUES[Number(v)]}`);
    const prio = s.priorities.filter(([x]) => x === g).map(([, p]) => `${indent}    ansible_group_priority: ${p}`);
    if (vars.length || prio.length) lines.push(`${indent}  vars:`, ...vars, ...prio);
    const children = s.edges.filter(([p]) => p === g).map(([, c]) => c);
    if (children.length) {
      lines.push(`${indent}  children:`);
      // A group defined once in full, referenced as an empty mapping elsewhere (legal YAML inventory).
      for (const c of children) {
        if (nested.has(c)) lines.push(`${indent}    g${c}:`);
        else {
          nested.add(c);
          group(c, `${indent}    `, nested);
        }
      }
    }
  };
  const nested = new Set<number>();
  for (const g of s.order)
    if (!nested.has(g)) {
      nested.add(g);
      group(g, '    ', nested);
    }
  writeFileSync(join(dir, 'hosts.yml'), `${lines.join('\n')}\n`);
  writeVarFiles(dir, s, YAML_VALUES);
  return join(dir, 'hosts.yml');
}

const SPECS = hasAnsible ? fc.sample(spec, { numRuns: 12, seed: 20261125 }) : [];
const FILES = [...SPECS.map(writeIni), ...SPECS.map(writeYaml)];

describeWith(ANSIBLE_CORE, 'random inventories against ansible-inventory --list', () => {
  afterAll(() => {
    removeScratch();
    for (const file of FILES) rmSync(dirname(file), { recursive: true, force: true });
  });
  const judged = FILES.map((file) => [file, ansibleInventoryList({ sources: [file] }, tmpdir())] as const);
  it.each(judged.map(([file, p]) => ({ file, p })))('$file', { timeout: 600_000 }, async ({ file, p }) => {
    const r = await p;
    expect(r.code, r.stderr).toBe(0);
    const ours = exactJson(ansibleJson(inventoryList(await loadInventory(file))));
    expect(ours).toEqual(exactJson(r.stdout));
  });
});
