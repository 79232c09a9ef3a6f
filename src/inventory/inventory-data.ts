// The inventory under construction, mirroring ansible.inventory.data.InventoryData: the parsers
// call addGroup/addHost/addChild/setVariable exactly where Ansible's plugins call them, so
// orders, duplicates and the `ungrouped` bookkeeping come out the same.

import { InventoryError, type InventoryErrorLocation } from './errors.ts';
import { UnsafeText } from './model.ts';
import { PyFloat } from './numbers.ts';

export interface VarSlot {
  value: unknown;
  origin: string;
}

export interface DraftGroup {
  name: string;
  hosts: string[];
  children: string[];
  parents: string[];
  vars: Map<string, VarSlot>;
  priority: number;
  /** Where the priority came from, for error messages. */
  priorityOrigin?: string;
}

export interface DraftHost {
  name: string;
  vars: Map<string, VarSlot>;
  /** Groups that list this host directly. */
  memberOf: string[];
}

export interface InventoryDraft {
  groups: Map<string, DraftGroup>;
  hosts: Map<string, DraftHost>;
  warnings: string[];
  encryptedFiles: string[];
}

export function newDraft(): InventoryDraft {
  const draft: InventoryDraft = { groups: new Map(), hosts: new Map(), warnings: [], encryptedFiles: [] };
  addGroup(draft, 'all');
  addGroup(draft, 'ungrouped');
  addChild(draft, 'all', 'ungrouped');
  return draft;
}

// Ansible's C.INVALID_VARIABLE_NAMES: names that cannot be used as Python identifiers.
const INVALID_GROUP_CHARS = /^[\d\W]|[^\w]/u;

export function addGroup(draft: InventoryDraft, name: string, where: InventoryErrorLocation = {}): string {
  if (!name) throw new InventoryError(`invalid empty group name; give the group a name`, where);
  if (!draft.groups.has(name)) {
    if (INVALID_GROUP_CHARS.test(name)) {
      pushOnce(draft.warnings, 'Invalid characters were found in group names but not replaced, use -vvvv to see details');
    }
    draft.groups.set(name, { name, hosts: [], children: [], parents: [], vars: new Map(), priority: 1 });
  }
  return name;
}

export function addHost(
  draft: InventoryDraft,
  name: string,
  group: string | undefined,
  port: number | undefined,
  origin: string,
  where: InventoryErrorLocation = {},
): void {
  if (!name) throw new InventoryError('invalid empty host name; give the host a name', where);
  let host = draft.hosts.get(name);
  if (!host) {
    host = { name, vars: new Map(), memberOf: [] };
    draft.hosts.set(name, host);
    // Ansible sets the port only when it creates the host (Host(name, port)).
    if (port !== undefined) host.vars.set('ansible_port', { value: port, origin });
  }
  if (group !== undefined) {
    const g = draft.groups.get(group);
    if (!g) throw new InventoryError(`could not find group ${group} in inventory`, where);
    // memberOf mirrors the groups' host lists and is a few entries long, where a group's list
    // can hold thousands: searching it kept a 10,000-host inventory quadratic.
    if (!host.memberOf.includes(group)) {
      g.hosts.push(name);
      host.memberOf.push(group);
    }
  }
}

/** Adds a group or a host (when no group has that name) as a child of `group`. */
export function addChild(draft: InventoryDraft, group: string, child: string, where: InventoryErrorLocation = {}): void {
  const parent = draft.groups.get(group);
  if (!parent) throw new InventoryError(`${group} is not a known group`, where);
  const childGroup = draft.groups.get(child);
  if (childGroup) {
    if (child === group) throw new InventoryError(`group ${group} cannot be a child of itself; remove it from its own children`, where);
    if (parent.children.includes(child)) return;
    if (ancestorsOf(draft, group).has(child)) {
      throw new InventoryError(`adding group '${child}' as child to '${group}' creates a recursive dependency loop; remove one of the two relations`, where);
    }
    parent.children.push(child);
    if (!childGroup.parents.includes(group)) childGroup.parents.push(group);
    return;
  }
  const host = draft.hosts.get(child);
  if (!host) throw new InventoryError(`${child} is not a known host nor group`, where);
  if (!host.memberOf.includes(group)) {
    parent.hosts.push(child);
    host.memberOf.push(group);
  }
}

/** Takes these hosts out of a group: its list is filtered once, whatever their number (one
 *  filter per host made 10,000 hosts listed above the first INI section cost seconds). */
function removeHostsFromGroup(draft: InventoryDraft, group: string, hosts: ReadonlySet<string>): void {
  if (hosts.size === 0) return;
  const g = draft.groups.get(group)!;
  g.hosts = g.hosts.filter((h) => !hosts.has(h));
  for (const host of hosts) {
    const entry = draft.hosts.get(host)!;
    entry.memberOf = entry.memberOf.filter((n) => n !== group);
  }
}

/**
 * Group.set_variable / Host.set_variable. `ansible_group_priority` on a group is not a
 * variable in Ansible: it sets the group's priority (int(value)).
 */
export function setVariable(draft: InventoryDraft, entity: string, key: string, value: unknown, origin: string, where: InventoryErrorLocation = {}): void {
  // A name that is both a group and a host: Ansible sets the group's variable.
  const group = draft.groups.get(entity);
  if (group) {
    if (key === 'ansible_group_priority') {
      const priority = pythonInt(value);
      if (priority === undefined) {
        throw new InventoryError(`ansible_group_priority must be an integer, got ${JSON.stringify(value)}; set a whole number such as 10`, where);
      }
      group.priority = priority;
      group.priorityOrigin = origin;
      return;
    }
    group.vars.set(key, { value, origin });
    return;
  }
  const host = draft.hosts.get(entity);
  if (!host) throw new InventoryError(`could not identify group or host named ${entity}`, where);
  host.vars.set(key, { value, origin });
}

/** Python's int(value) for what inventories contain; undefined where Python raises. */
function pythonInt(value: unknown): number | undefined {
  if (value instanceof UnsafeText) return pythonInt(value.text);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (value instanceof PyFloat) return Number.isFinite(value.value) ? Math.trunc(value.value) : undefined;
  if (typeof value === 'string') {
    const t = value.trim().replace(/(?<=\d)_(?=\d)/g, '');
    return /^[+-]?\d+$/.test(t) ? Number(t) : undefined;
  }
  return undefined;
}

/**
 * Every ancestor of a group (not the group itself). `memo`: ancestors already computed, for a
 * caller that asks for many hosts while the group tree does not change.
 */
export function ancestorsOf(draft: InventoryDraft, group: string, memo?: Map<string, Set<string>>): Set<string> {
  const known = memo?.get(group);
  if (known) return known;
  const seen = new Set<string>();
  const todo = [...(draft.groups.get(group)?.parents ?? [])];
  while (todo.length) {
    const g = todo.pop()!;
    if (seen.has(g)) continue;
    seen.add(g);
    todo.push(...(draft.groups.get(g)?.parents ?? []));
  }
  memo?.set(group, seen);
  return seen;
}

/** The groups a host belongs to: direct groups and all their ancestors. */
export function hostGroups(draft: InventoryDraft, host: string, memo?: Map<string, Set<string>>): Set<string> {
  const result = new Set<string>();
  for (const g of draft.hosts.get(host)?.memberOf ?? []) {
    result.add(g);
    for (const a of ancestorsOf(draft, g, memo)) result.add(a);
  }
  return result;
}

/** InventoryData.reconcile_inventory: top-level groups under 'all', the `ungrouped` rules. */
export function reconcile(draft: InventoryDraft): void {
  for (const g of draft.groups.values()) {
    if (g.name !== 'all' && g.parents.length === 0) addChild(draft, 'all', g.name);
  }
  // Only hosts move below (into or out of `ungrouped`): the groups' ancestors stay the same.
  const memo = new Map<string, Set<string>>();
  const grouped = new Set<string>();
  for (const host of draft.hosts.values()) {
    const groups = hostGroups(draft, host.name, memo);
    if (groups.has('ungrouped')) {
      // A host listed before any INI section and also in a real group is not ungrouped.
      if ([...groups].some((g) => g !== 'all' && g !== 'ungrouped')) grouped.add(host.name);
    } else if (groups.size === 0 || (groups.size === 1 && groups.has('all'))) {
      addChild(draft, 'ungrouped', host.name);
    }
  }
  removeHostsFromGroup(draft, 'ungrouped', grouped);
  const names = new Set(draft.groups.keys());
  for (const h of draft.hosts.keys()) {
    if (names.has(h)) draft.warnings.push(`Found both group and host with same name: ${h}`);
  }
}

/** Group depth: the longest path from 'all', which is what Ansible's incremental depth ends at. */
export function groupDepths(draft: InventoryDraft): Map<string, number> {
  const depths = new Map<string, number>();
  const visit = (name: string): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const parents = draft.groups.get(name)?.parents ?? [];
    // Cycles are refused by addChild, so this recursion ends.
    const depth = parents.length === 0 ? 0 : Math.max(...parents.map((p) => visit(p) + 1));
    depths.set(name, depth);
    return depth;
  };
  for (const name of draft.groups.keys()) visit(name);
  return depths;
}

export function pushOnce(list: string[], message: string): void {
  if (!list.includes(message)) list.push(message);
}
