// What ansible-inventory prints: --list (JSON), --host, --graph, and the host list of
// `ansible PATTERN --list-hosts`. Used by scripts/inventory.ts and the compatibility tests.

import type { Inventory } from './model.ts';
import { UnsafeText, VaultedValue } from './model.ts';
import { InventoryError } from './errors.ts';
import { PyFloat, pythonFloatRepr } from './numbers.ts';
import { matchHosts } from './patterns.ts';
import { setOwn } from './records.ts';

export interface AnsibleListing {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: unknown;
}

/** ansible-inventory --list (without --export): groups with hosts/children, vars per host. */
export function inventoryList(inventory: Inventory): AnsibleListing {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const formatGroup = (name: string): void => {
    const group = inventory.groups.get(name)!;
    const entry: { hosts?: string[]; children?: string[] } = {};
    if (name !== 'all' && group.hosts.length) entry.hosts = [...group.hosts];
    if (group.children.length) entry.children = [...group.children];
    // Python adds the group before formatting its children; key order does not matter in JSON.
    if (Object.keys(entry).length) setOwn(out, name, entry);
    for (const child of group.children) {
      if (!seen.has(child)) {
        formatGroup(child);
        seen.add(child);
      }
    }
  };
  formatGroup('all');
  const hostvars: Record<string, Record<string, unknown>> = {};
  for (const host of inventory.hosts.values()) {
    if (Object.keys(host.vars).length) hostvars[host.name] = host.vars;
  }
  return { ...out, _meta: { hostvars } } as AnsibleListing;
}

/** ansible-inventory --host NAME (NAME is a pattern that must match exactly one host). */
export function inventoryHost(inventory: Inventory, pattern: string): Record<string, unknown> {
  const { hosts } = matchHosts(inventory, pattern);
  if (hosts.length !== 1) throw new InventoryError(`you must pass a single valid host to --host parameter; ${pattern} matches ${hosts.length} hosts`);
  return inventory.hosts.get(hosts[0]!)!.vars;
}

/** ansible-inventory --graph [GROUP] [--vars] */
export function inventoryGraph(inventory: Inventory, start = 'all', showVars = false): string {
  if (!inventory.groups.has(start)) throw new InventoryError(`pattern must be a valid group name when using --graph; ${start} is not a group`);
  const lines: string[] = [];
  const name = (text: string, depth: number): string => (depth ? `${'  |'.repeat(depth)}--${text}` : text);
  const showVarLines = (vars: Record<string, unknown>, depth: number): void => {
    for (const key of Object.keys(vars).sort(compareCodePoints)) lines.push(name(`{${key} = ${pythonStr(vars[key])}}`, depth));
  };
  const graph = (group: string, depth: number): void => {
    const g = inventory.groups.get(group)!;
    lines.push(name(`@${group}:`, depth));
    for (const child of g.children) graph(child, depth + 1);
    if (group !== 'all') {
      for (const h of g.hosts) {
        lines.push(name(h, depth + 1));
        if (showVars) showVarLines(inventory.hosts.get(h)?.vars ?? {}, depth + 2);
      }
    }
    if (showVars) showVarLines(g.vars, depth + 1);
  };
  graph(start, 0);
  return lines.join('\n');
}

/** The host lines `ansible PATTERN --list-hosts` prints. */
export function listHostsText(hosts: string[]): string {
  return [`  hosts (${hosts.length}):`, ...hosts.map((h) => `    ${h}`)].join('\n');
}

/**
 * json.dumps(..., sort_keys=True, indent=4) as ansible-inventory prints it. Written by hand
 * because JSON.stringify cannot print a float as `1000.0` nor a bigint at all.
 */
export function ansibleJson(value: unknown, indent = ''): string {
  const inner = `${indent}    `;
  if (value instanceof VaultedValue || value instanceof UnsafeText) return ansibleJson(value.toJSON(), indent);
  if (value instanceof PyFloat) {
    const x = value.value;
    return Number.isNaN(x) ? 'NaN' : !Number.isFinite(x) ? (x > 0 ? 'Infinity' : '-Infinity') : pythonFloatRepr(x);
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + ansibleJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort(compareCodePoints);
    if (keys.length === 0) return '{}';
    const entries = keys.map((k) => `${inner}${JSON.stringify(k)}: ${ansibleJson((value as Record<string, unknown>)[k], inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Python's str() of a value, as --graph --vars shows it. */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' || value instanceof UnsafeText ? String(value) : pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  // Python ints print their digits, floats their repr (PyFloat.toString).
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof PyFloat) return String(value);
  if (typeof value === 'string') return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value instanceof VaultedValue) return value.ciphertext;
  if (value instanceof UnsafeText) return pythonRepr(value.text);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}
