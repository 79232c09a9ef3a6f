// Variable precedence, as ansible-core's VariableManager.get_vars() builds a host's variables
// (default VARIABLE_PRECEDENCE), lowest first:
//   1. 'all' group vars from the inventory files
//   2. other groups' vars from the inventory files, sorted by (depth, ansible_group_priority, name)
//   3. group_vars/all beside each inventory source, then beside the playbook
//   4. group_vars/<group> beside each inventory source (sources outer, groups inner, same order
//      as 2), then beside the playbook
//   5. the host's vars from the inventory files
//   6. host_vars/<host> beside each inventory source, then beside the playbook
// Each step overrides the previous ones key by key (hash_behaviour=replace: no deep merge).

import type { DraftGroup, InventoryDraft, VarSlot } from './inventory-data.ts';
import { compareCodePoints } from './vars-files.ts';
import type { InventoryError } from './errors.ts';

export type VarLayer = Map<string, VarSlot>;

/** ansible.inventory.helpers.sort_groups */
export function sortGroups(groups: DraftGroup[], depths: Map<string, number>): DraftGroup[] {
  return [...groups].sort((a, b) => depths.get(a.name)! - depths.get(b.name)! || a.priority - b.priority || compareCodePoints(a.name, b.name));
}

export function overlay(target: VarLayer, layer: VarLayer | undefined): void {
  if (!layer) return;
  for (const [k, v] of layer) target.set(k, v);
}

/** Where group_vars/host_vars files live for one set of directories, per entity. */
export interface FileVars {
  /** group name -> variables of group_vars/<name> per directory, in directory order */
  group(name: string): VarLayer[];
  host(name: string): VarLayer[];
  /** The vault files of group_vars/<name> or host_vars/<name> no secret opened (deferred loads). */
  unreadableOf(kind: 'group' | 'host', name: string): InventoryError[];
}

export interface HostVarsInput {
  draft: InventoryDraft;
  depths: Map<string, number>;
  host: string;
  /** The host's groups, 'all' excluded. */
  groups: DraftGroup[];
  inventoryFiles: FileVars;
  playbookFiles: FileVars | undefined;
}

export function hostVars({ draft, depths, host, groups, inventoryFiles, playbookFiles }: HostVarsInput): VarLayer {
  const sorted = sortGroups(groups, depths);
  const result: VarLayer = new Map();
  overlay(result, draft.groups.get('all')!.vars);
  for (const g of sorted) overlay(result, g.vars);
  for (const layer of inventoryFiles.group('all')) overlay(result, layer);
  for (const layer of playbookFiles?.group('all') ?? []) overlay(result, layer);
  // Directory outer, groups inner: Ansible asks each directory for all the host's groups.
  const dirs = inventoryFiles.group('all').length;
  for (let d = 0; d < dirs; d++) for (const g of sorted) overlay(result, inventoryFiles.group(g.name)[d]);
  const playDirs = playbookFiles?.group('all').length ?? 0;
  for (let d = 0; d < playDirs; d++) for (const g of sorted) overlay(result, playbookFiles!.group(g.name)[d]);
  overlay(result, draft.hosts.get(host)!.vars);
  for (const layer of inventoryFiles.host(host)) overlay(result, layer);
  for (const layer of playbookFiles?.host(host) ?? []) overlay(result, layer);
  return result;
}
