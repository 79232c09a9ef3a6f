// Ansible's INI inventory format (plugins/inventory/ini.py), line by line: sections are
// groups (`[g]`, `[g:vars]`, `[g:children]`), hosts before any section are `ungrouped`,
// host lines are split like a shell (shlex) and every value goes through Python's
// literal_eval, in host lines and in [g:vars] alike (ansible-core 2.14 does both).

import { InventoryError, originOf } from './errors.ts';
import { expandHostPattern, HostRangeError } from './host-ranges.ts';
import { addChild, addGroup, addHost, setVariable, type InventoryDraft } from './inventory-data.ts';
import { iniValue, LiteralTypeError } from './python-literal.ts';
import { shlexSplit } from './shlex.ts';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/u;
// Python's str.splitlines() boundaries
// biome-ignore lint/suspicious/noControlCharactersInRegex: Python's str.splitlines() line breaks, which Ansible's INI parser splits on
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

interface Pending {
  line: number;
  state: 'vars' | 'children';
  name: string;
  parents: string[];
}

/** Parses INI text into the draft. Throws InventoryError naming file and line. */
/** A comment line of an INI inventory, as Ansible's INI plugin skips it (# or ; after blanks). */
export function isIniComment(line: string): boolean {
  const first = line.trimStart()[0];
  return first === '#' || first === ';';
}

export function parseIniInventory(draft: InventoryDraft, file: string, text: string): void {
  const lines = text.split(LINE_BREAK);
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  let lineno = 0;

  // Typed on the name, so TypeScript knows a call never returns (narrowing after fail(...)).
  const fail: (message: string) => never = (message) => {
    throw new InventoryError(message, { file, line: lineno });
  };

  const addPendingChildren = (name: string): void => {
    for (const parent of pending.get(name)!.parents) {
      addChild(draft, parent, name, { file, line: lineno });
      const p = pending.get(parent);
      if (p && p.state === 'children') addPendingChildren(parent);
    }
    pending.delete(name);
  };

  for (const raw of lines) {
    lineno++;
    const line = raw.trim();
    if (!line || isIniComment(line)) continue;

    const section = SECTION.exec(line);
    if (section) {
      group = section[1]!;
      state = section[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) {
        fail(`section [${group}:${state}] has unknown type: ${state}; use [${group}], [${group}:vars] or [${group}:children]`);
      }
      if (!draft.groups.has(group)) {
        // [g] or [g:children] declares a group; [g:vars] alone does not, which Ansible
        // checks at the end of the file.
        if (state === 'vars' && !pending.has(group)) pending.set(group, { line: lineno, state: 'vars', name: group, parents: [] });
        addGroup(draft, group, { file, line: lineno });
      }
      const p = pending.get(group);
      if (p && state !== 'vars') {
        if (p.state === 'children') addPendingChildren(group);
        else pending.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(`invalid section entry: '${line}'; section names cannot contain spaces or other invalid characters`);
    }

    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shlexSplit(line, true);
      } catch (e) {
        // The line's values are not quoted: a password there is not known as one yet.
        fail(
          `error parsing the host definition of ${line.trim().split(/\s/)[0]}: ${(e as Error).message}; close the quotes or escape the character (the values are not shown: they may hold a password)`,
        );
      }
      if (tokens.length === 0) fail(`expected a host definition, got: ${line}`);
      const pattern = tokens[0]!;
      let expanded: { hosts: string[]; port: number | undefined };
      try {
        expanded = expandHostPattern(pattern);
      } catch (e) {
        if (e instanceof HostRangeError) fail(`invalid host range '${pattern}': ${e.message}; write ranges as name[01:10], name[1:10:2] or name[a:f]`);
        throw e;
      }
      if (pattern.trim().endsWith(':') && expanded.port === undefined) {
        fail(
          `invalid host pattern '${pattern}': a trailing ':' is reserved for a port (host:22); if this is a YAML file, give it a .yml extension and fix its YAML`,
        );
      }
      if (expanded.hosts.some((h) => h.trim() === '---')) {
        fail(`invalid host pattern '${pattern}': '---' is normally a sign this is a YAML file; give it a .yml extension`);
      }
      const variables = new Map<string, unknown>();
      for (const [i, token] of tokens.slice(1).entries()) {
        const eq = token.indexOf('=');
        if (eq === -1) {
          fail(
            `expected key=value host variable assignments after ${pattern}, got a word without '=' (word ${i + 2} of the line, not shown: it may be part of a password); quote values that contain spaces`,
          );
        }
        variables.set(token.slice(0, eq), value(token.slice(eq + 1), token.slice(0, eq), fail));
      }
      const origin = originOf(file, lineno);
      for (const host of expanded.hosts) {
        addHost(draft, host, group, expanded.port, origin, { file, line: lineno });
        for (const [k, v] of variables) setVariable(draft, host, k, v, origin, { file, line: lineno });
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq === -1) {
        const yamlLike = /^\s*[\w.-]+\s*:/.exec(line);
        fail(
          `expected name=value, got a line without '=' (not shown: it may hold a password)${yamlLike ? `; it looks like YAML's "${yamlLike[0].trim()} value", which INI writes as name=value` : ''}; each line of [${group}:vars] is one name=value`,
        );
      }
      const key = line.slice(0, eq).trim();
      setVariable(draft, group, key, value(line.slice(eq + 1).trim(), key, fail), originOf(file, lineno), { file, line: lineno });
    } else {
      const m = GROUP_NAME.exec(line);
      // A variable put here by mistake (:children for :vars) would be quoted whole, its password
      // included: named by what comes before its '=' alone. (An '=' in a comment after a group
      // name is no variable: `web  # tier=1`.)
      const eq = (m ? m[1]! : line).indexOf('=');
      if (eq !== -1) {
        fail(
          `expected group name, got ${line.slice(0, eq).trim()}=... (value not shown: it may hold a password), which looks like a variable; variables go in [${group}:vars], one group per line in [${group}:children]`,
        );
      }
      if (!m) fail(`expected group name, got: ${line.trim().split(/\s+/)[0]} and more on the line; list one group per line in [${group}:children]`);
      const child = m[1]!;
      if (!draft.groups.has(child)) {
        const p = pending.get(child);
        if (!p) pending.set(child, { line: lineno, state: 'children', name: child, parents: [group] });
        else p.parents.push(group);
      } else {
        addChild(draft, group, child, { file, line: lineno });
      }
    }
  }

  // Python reports the first unresolved declaration.
  for (const decl of pending.values()) {
    if (decl.state === 'vars') {
      throw new InventoryError(
        `section [${decl.name}:vars] not valid for undefined group: ${decl.name}; declare the group with [${decl.name}] or list it in a [parent:children] section`,
        { file, line: decl.line },
      );
    }
    throw new InventoryError(
      `section [${decl.parents[decl.parents.length - 1]}:children] includes undefined group: ${decl.name}; declare it with a [${decl.name}] section`,
      { file, line: decl.line },
    );
  }
}

/** A variable's value; one that cannot be read is named by its variable, never quoted (a password). */
function value(text: string, name: string, fail: (m: string) => never): unknown {
  try {
    return iniValue(text);
  } catch (e) {
    if (e instanceof LiteralTypeError) fail(`cannot read the value of ${name}: ${e.message}`);
    throw e;
  }
}
