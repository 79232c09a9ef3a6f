// Host patterns (`ansible PATTERN`, `--limit`), as ansible-core's InventoryManager evaluates
// them: `all`/`*`, group and host names, `a:b` / `a,b` unions, `&` intersections, `!`
// exclusions (applied after all unions whatever their position), shell wildcards, `~regex`
// (matched from the start, not anchored at the end), subscripts `g[0]`, `g[-1]`, `g[1:3]`
// (inclusive), `g[2:]`, and `@file` (one pattern per line) in limits.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InventoryError } from './errors.ts';
import { parseAddress } from './host-ranges.ts';
import type { Inventory } from './model.ts';

/** What a pattern that matches nothing is ([inventory] host_pattern_mismatch): Ansible's
 *  warning by default; an error stops the run, as it stops Ansible's. */
export type HostPatternMismatch = 'warning' | 'error' | 'ignore';
export const HOST_PATTERN_MISMATCH: readonly HostPatternMismatch[] = ['warning', 'error', 'ignore'];

export interface SelectOptions {
  /** Folder `@file` paths are relative to (default: process.cwd()). */
  cwd?: string;
  hostPatternMismatch?: HostPatternMismatch;
}

/** What evaluating patterns says besides the hosts. */
interface Notes {
  warnings: string[];
  mismatch: HostPatternMismatch;
}

export interface Selection {
  hosts: string[];
  /** e.g. "Could not match supplied host pattern, ignoring: web9" */
  warnings: string[];
}

/** The hosts `ansible -i INV PATTERN --list-hosts` lists, in the same order. Throws InventoryError. */
export function selectHosts(inventory: Inventory, pattern: string, options: SelectOptions = {}): string[] {
  return matchHosts(inventory, pattern, options).hosts;
}

/**
 * `ansible-playbook --limit LIMIT` on a play with `hosts: PLAY_PATTERN`: the play's hosts in
 * the play's order, restricted to those the limit selects (the limit never reorders).
 */
export function limitHosts(inventory: Inventory, limit: string | undefined, playPattern = 'all', options: SelectOptions = {}): Selection {
  const play = matchHosts(inventory, playPattern, options);
  if (limit === undefined) return play;
  const subset = matchHosts(inventory, limit, options);
  const allowed = new Set(subset.hosts);
  return { hosts: play.hosts.filter((h) => allowed.has(h)), warnings: [...play.warnings, ...subset.warnings] };
}

export function matchHosts(inventory: Inventory, pattern: string, options: SelectOptions = {}): Selection {
  const warnings: string[] = [];
  const patterns: string[] = [];
  for (const p of splitHostPattern(pattern)) {
    if (p.startsWith('@')) patterns.push(...readLimitFile(p.slice(1), options.cwd ?? process.cwd()));
    else patterns.push(p);
  }
  const hosts = evaluatePatterns(inventory, patterns, { warnings, mismatch: options.hostPatternMismatch ?? 'warning' });
  return { hosts: [...new Set(hosts)], warnings };
}

function readLimitFile(path: string, cwd: string): string[] {
  const full = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new InventoryError('a limit starting with "@" must be a file, not a directory', { file: full });
    throw new InventoryError('unable to find limit file; check the path after "@"', { file: full });
  }
  return text.split('\n').map((l) => l.trim());
}

/** inventory.manager.split_host_pattern */
export function splitHostPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern)) parts = [pattern];
  // ':' separated, keeping [x:y] subscripts and ranges together (IPv6 mishandled, as in Ansible)
  else {
    parts = pattern.match(PATTERN_PART) ?? [];
    // Ansible drops a bracket that closes nothing and matches the rest: '~[bad' became '~' (every
    // host) and 'bad', so a --limit meant for one host ran the whole fleet. Refused instead.
    const dropped = pattern.replace(PATTERN_PART, '').replace(/[\s:]/g, '');
    if (dropped) {
      throw new InventoryError(
        `host pattern '${pattern}' has an unbalanced '${dropped[0]}': a subscript is NAME[N] or NAME[N:M], a regex with a bracket set goes after '~' in a part of its own (separate parts with ','); Ansible would drop the bracket and match more hosts than the pattern says`,
      );
    }
  }
  return parts.map((p) => p.trim()).filter((p) => p);
}

/** One ':'-separated part of a host pattern, a [x:y] subscript or range kept whole. */
const PATTERN_PART = /(?:[^\s:[\]]|\[[^\]]*\])+/g;

/** Runs plain patterns first, then `&` ones, then `!` ones; only exclusions means 'all' minus them. */
function orderPatterns(patterns: string[]): string[] {
  const regular = patterns.filter((p) => p && p[0] !== '!' && p[0] !== '&');
  const intersection = patterns.filter((p) => p[0] === '&');
  const exclude = patterns.filter((p) => p[0] === '!');
  return [...(regular.length ? regular : ['all']), ...intersection, ...exclude];
}

function evaluatePatterns(inventory: Inventory, patterns: string[], notes: Notes): string[] {
  let hosts: string[] = [];
  const cache = new Map<string, string[]>();
  for (const p of orderPatterns(patterns)) {
    if (inventory.hosts.has(p)) {
      hosts.push(p);
      continue;
    }
    const body = p[0] === '&' || p[0] === '!' ? p.slice(1) : p;
    let that = cache.get(body);
    if (!that) {
      that = matchOnePattern(inventory, body, notes);
      cache.set(body, that);
    }
    // `!hana0[1:2]` reads as "not hana01 and hana02" but is a subscript of the hosts of a
    // `hana0` that does not exist: it excludes nothing, and Ansible (only warning) runs on the
    // hosts meant to be left out. Refused, as a bracket that closes nothing is.
    const base = p[0] === '!' && that.length === 0 && body[0] !== '~' ? PATTERN_WITH_SUBSCRIPT.exec(body)?.[1] : undefined;
    // (a group that exists but has no hosts excludes nothing either, rightly: not refused)
    if (base !== undefined && !inventory.groups.has(base) && !inventory.hosts.has(base)) {
      throw new InventoryError(
        `the pattern ${p} excludes nothing: ${base} matches no host or group, and [${body.slice(base.length + 1, -1)}] is a subscript of its hosts, not a range of names (Ansible reads it so too, and would run on every host it meant to leave out); name the hosts (!${base}1:!${base}2) or use a regex (!~${base}[12])`,
      );
    }
    const set = new Set(that);
    if (p[0] === '!') hosts = hosts.filter((h) => !set.has(h));
    else if (p[0] === '&') hosts = hosts.filter((h) => set.has(h));
    else {
      const existing = new Set(hosts);
      hosts.push(...that.filter((h) => !existing.has(h)));
    }
  }
  return hosts;
}

const PATTERN_WITH_SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

function matchOnePattern(inventory: Inventory, pattern: string, notes: Notes): string[] {
  let expr = pattern;
  let subscript: [number, number | undefined] | undefined;
  if (pattern[0] !== '~') {
    const m = PATTERN_WITH_SUBSCRIPT.exec(pattern);
    if (m) {
      expr = m[1]!;
      if (m[2] !== undefined) subscript = [Number(m[2]), undefined];
      else {
        subscript = [Number(m[3]), m[5] ? Number(m[5]) : -1];
        if (m[4] === '-') notes.warnings.push('Use [x:y] inclusive subscripts instead of [x-y] which has been removed');
      }
    }
  }
  const hosts = enumerateMatches(inventory, expr, notes);
  if (!subscript || hosts.length === 0) return hosts;
  const [start, end] = subscript;
  // Python: `if end:` -- an end of 0 means a single index, like g[1:0] == g[1]
  if (end) {
    const stop = end === -1 ? hosts.length - 1 : end;
    return hosts.slice(start, stop + 1);
  }
  const index = start < 0 ? hosts.length + start : start;
  if (index < 0 || index >= hosts.length) {
    throw new InventoryError(`no hosts matched the subscripted pattern '${pattern}': it has ${hosts.length} host(s), counting from 0`);
  }
  return [hosts[index]!];
}

/** fnmatch.translate + re.match, or the Python regex after `~` (matched at the start only). */
function compilePattern(pattern: string): RegExp {
  // Ansible's empty regex matches every host: never what a limit with a '~' meant.
  if (pattern === '~') throw new InventoryError("host pattern part '~' has no regular expression after it, and would match every host; write ~REGEX, or all");
  try {
    if (pattern[0] === '~') {
      // Python's spellings JavaScript lacks: leading inline flags ((?i), (?s), (?m), (?is)...),
      // named groups (?P<name>...) and their references (?P=name).
      const flags = /^\(\?([ims]+)\)/.exec(pattern.slice(1));
      const body = pattern
        .slice(1 + (flags?.[0].length ?? 0))
        .replace(/\(\?P</g, '(?<')
        .replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
      return new RegExp(`^(?:${body})`, `u${flags?.[1] ?? ''}`);
    }
    return new RegExp(`^${fnmatchToRegex(pattern)}$`, 's');
  } catch {
    throw new InventoryError(`invalid host list pattern: ${pattern}; check the regular expression after '~'`);
  }
}

/** Python's fnmatch.translate: *, ?, [seq], [!seq]; everything else literal. */
export function fnmatchToRegex(pat: string): string {
  let out = '';
  let i = 0;
  while (i < pat.length) {
    const c = pat[i++]!;
    if (c === '*') {
      out += '.*';
      while (pat[i] === '*') i++;
    } else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i;
      if (pat[j] === '!') j++;
      if (pat[j] === ']') j++;
      while (j < pat.length && pat[j] !== ']') j++;
      if (j >= pat.length) out += '\\[';
      else {
        let stuff = pat.slice(i, j);
        i = j + 1;
        if (!stuff) {
          out += '(?!)';
          continue;
        }
        if (stuff === '!') {
          out += '.';
          continue;
        }
        stuff = stuff.replace(/\\/g, '\\\\');
        if (stuff[0] === '!') stuff = `^${stuff.slice(1)}`;
        else if (stuff[0] === '^') stuff = `\\${stuff}`;
        out += `[${stuff.replace(/\[/g, '\\[')}]`;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

function enumerateMatches(inventory: Inventory, pattern: string, notes: Notes): string[] {
  const re = compilePattern(pattern);
  const results: string[] = [];
  const matchingGroups = [...inventory.groups.keys()].filter((g) => re.test(g));
  for (const g of matchingGroups) results.push(...groupHosts(inventory, g));
  if (matchingGroups.length === 0 || pattern[0] === '~' || ['.', '?', '*', '['].some((s) => pattern.includes(s))) {
    for (const h of inventory.hostDeclarationOrder) if (re.test(h)) results.push(h);
  }
  if (results.length === 0 && matchingGroups.length === 0 && pattern !== 'all') {
    const said = `Could not match supplied host pattern, ignoring: ${pattern}`;
    if (notes.mismatch === 'error') throw new InventoryError(said);
    if (notes.mismatch === 'warning') notes.warnings.push(said);
  }
  return results;
}

/**
 * Group.get_hosts(): the group's own hosts, then its descendants' level by level, each host
 * once. For 'all' this is the order plays run hosts in.
 */
export function groupHosts(inventory: Pick<Inventory, 'groups'>, name: string): string[] {
  const start = inventory.groups.get(name);
  if (!start) return [];
  const ordered = [name, ...start.children];
  const seen = new Set<string>();
  let unprocessed = [...new Set([name, ...start.children])];
  while (unprocessed.length) {
    for (const g of unprocessed) seen.add(g);
    const next: string[] = [];
    for (const g of unprocessed) {
      for (const child of inventory.groups.get(g)?.children ?? []) {
        if (!next.includes(child)) next.push(child);
        if (!seen.has(child)) ordered.push(child);
      }
    }
    unprocessed = next.filter((g) => !seen.has(g));
  }
  const hosts: string[] = [];
  const done = new Set<string>();
  for (const g of ordered) {
    for (const h of inventory.groups.get(g)?.hosts ?? []) {
      if (!done.has(h)) {
        done.add(h);
        hosts.push(h);
      }
    }
  }
  return hosts;
}
