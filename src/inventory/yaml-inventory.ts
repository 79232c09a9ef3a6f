// Ansible's YAML inventory format (plugins/inventory/yaml.py): top-level keys are groups,
// each with optional `hosts`, `vars` and `children` mappings, recursively. Mistakes Ansible
// only warns about (unknown keys, non-mapping groups) are warnings here too.

import { InventoryError, originOf } from './errors.ts';
import { expandHostPattern, HostRangeError } from './host-ranges.ts';
import { addChild, addGroup, addHost, setVariable, type InventoryDraft } from './inventory-data.ts';
import { plainValue, UnsafeText } from './model.ts';
import { PyFloat } from './numbers.ts';
import { convert, isMap, isScalar, isSeq, keyString, lineOf, mapEntries, type LoadedYaml } from './yaml-load.ts';

/** Python's type() name of a YAML node, for messages. */
function typeName(node: unknown): string {
  if (isMap(node)) return 'dict';
  if (isSeq(node)) return 'list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'NoneType';
    if (typeof v === 'boolean') return 'bool';
    if (typeof v === 'number' || typeof v === 'bigint') return 'int';
    if (v instanceof PyFloat) return 'float';
    if (typeof v === 'string' || v instanceof UnsafeText) return 'str';
  }
  return 'object';
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && (node.value === null || node.value === undefined));
}

/** The document must already be a mapping without `plugin:` (checked by the caller). */
export function parseYamlInventory(draft: InventoryDraft, loaded: LoadedYaml): void {
  const file = loaded.file;
  const where = (node: unknown) => ({ file, line: lineOf(loaded, node) });

  const parseGroup = (groupKey: unknown, keyNode: unknown, data: unknown): string => {
    const groupLabel = keyString(groupKey);
    if (!isMap(data) && !isNull(data)) {
      draft.warnings.push(`Skipping '${groupLabel}' as this is not a valid group definition`);
      return groupLabel;
    }
    if (typeof groupKey !== 'string') {
      throw new InventoryError(`unable to add group ${groupLabel}: a group name must be a string, got ${typeName(keyNode)}; quote it`, where(keyNode));
    }
    const group = addGroup(draft, groupKey, where(keyNode));
    if (!isMap(data)) return group;

    // `hosts: web1` is shorthand for `hosts: {web1: ~}` (same for vars and children).
    const sections = new Map<string, { key: unknown; keyNode: unknown; value: unknown }[] | null>();
    for (const entry of mapEntries(loaded, data)) {
      const key = keyString(entry.key);
      const value = entry.value;
      if (['vars', 'children', 'hosts'].includes(key)) {
        const name = isScalar(value) ? plainValue(value.value) : undefined;
        if (typeof name === 'string') {
          sections.set(key, [{ key: name, keyNode: value, value: null }]);
          continue;
        }
        if (!isMap(value) && !isNull(value)) {
          throw new InventoryError(
            `invalid "${key}" entry for "${group}" group, requires a dictionary, found "${typeName(value)}" instead; ` +
              `write it as a mapping (name: ...), not a list`,
            where(entry.keyNode),
          );
        }
      }
      if (!isMap(value)) {
        if (!isNull(value)) {
          draft.warnings.push(`Skipping key (${key}) in group (${group}) as it is not a mapping, it is a ${typeName(value)}`);
        }
        continue;
      }
      if (!['vars', 'children', 'hosts'].includes(key)) {
        draft.warnings.push(`Skipping unexpected key (${key}) in group (${group}), only "vars", "children" and "hosts" are valid`);
        continue;
      }
      sections.set(key, mapEntries(loaded, value));
    }

    for (const [section, entries] of sections) {
      if (!entries) continue;
      if (section === 'vars') {
        for (const e of entries) {
          setVariable(draft, group, keyString(e.key), convert(loaded, e.value), originOf(file, lineOf(loaded, e.keyNode)), where(e.keyNode));
        }
      } else if (section === 'children') {
        for (const e of entries) {
          const child = parseGroup(e.key, e.keyNode, e.value);
          if (!draft.groups.has(child)) {
            // Ansible skips the invalid definition, then fails to add the unknown child.
            throw new InventoryError(
              `child group '${child}' of '${group}' is not a valid group definition; write it as a mapping (hosts:, vars:, children:) or leave it empty`,
              where(e.keyNode),
            );
          }
          addChild(draft, group, child, where(e.keyNode));
        }
      } else {
        for (const e of entries) parseHosts(group, e.key, e.keyNode, e.value);
      }
    }
    return group;
  };

  const parseHosts = (group: string, pattern: unknown, keyNode: unknown, value: unknown): void => {
    if (typeof pattern !== 'string') {
      throw new InventoryError(`host pattern ${keyString(pattern)} must be a string; enclose integers/floats in quotation marks`, where(keyNode));
    }
    // INI's `name var=value ...` written in a YAML file: the whole line would be the host's name,
    // its passwords shown wherever the host is named and passed to ssh on its command line.
    if (/\s/.test(pattern)) {
      throw new InventoryError(
        `a host name with blanks in it (not shown: it may hold a password, as "name var=value" INI lines do); in a YAML inventory, write the host as a key and its variables as an indented mapping of "name: value" lines`,
        where(keyNode),
      );
    }
    let expanded: { hosts: string[]; port: number | undefined };
    try {
      expanded = expandHostPattern(pattern);
    } catch (e) {
      if (e instanceof HostRangeError)
        throw new InventoryError(`invalid host range '${pattern}': ${e.message}; write ranges as name[01:10], name[1:10:2] or name[a:f]`, where(keyNode));
      throw e;
    }
    // Python: `data or {}` -- any false-y value means "no variables".
    const falsy = isNull(value) || (isScalar(value) && !plainValue(value.value)) || (isSeq(value) && value.items.length === 0);
    if (!falsy && !isMap(value)) {
      throw new InventoryError(
        `invalid data for host ${pattern}: expected a mapping of variables, got ${typeName(value)}; write "${pattern}:" followed by indented "name: value" lines`,
        where(keyNode),
      );
    }
    const entries = isMap(value) ? mapEntries(loaded, value) : [];
    const hostOrigin = originOf(file, lineOf(loaded, keyNode));
    for (const host of expanded.hosts) {
      addHost(draft, host, group, expanded.port, hostOrigin, where(keyNode));
      for (const e of entries) {
        setVariable(draft, host, keyString(e.key), convert(loaded, e.value), originOf(file, lineOf(loaded, e.keyNode)), where(e.keyNode));
      }
    }
  };

  for (const entry of mapEntries(loaded, loaded.contents)) {
    parseGroup(entry.key, entry.keyNode, entry.value);
  }
}
