// YAML as Ansible reads it: PyYAML's YAML 1.1 implicit types (yes/no/on/off booleans, 0755
// octal, 1:30 sexagesimal, "1e3" stays a string, dates), merge keys, duplicate keys warn and
// the last one wins, `!vault` and `!unsafe` tags. Positions are kept so that every variable
// can name the line it came from.
//
// js-yaml's event parser reads the text (a flat list of events with source offsets: ~0.1 s for
// a 10,000-host inventory, where the `yaml` library's document model took ~0.6-1.4 s); this
// file builds the small node tree below from those events and types the scalars itself, so
// the YAML 1.1 rules above live in one place.

import { EVENT_ID, type Event, getScalarValue, parseEvents, SCALAR_STYLE, type ScalarEvent, YAMLException } from 'js-yaml';
import { InventoryError, originOf } from './errors.ts';
import { UnsafeText, VaultedValue } from './model.ts';
import { jsonNumber, PyFloat, pyInt, type PyInt } from './numbers.ts';
import { setOwn } from './records.ts';

/** A scalar: `value` typed by PyYAML's rules (or the MERGE key `<<`), `text` as written. */
export interface YamlScalar {
  kind: 'scalar';
  value: unknown;
  text: string;
  plain: boolean;
  /** Offset in the source; -1 when unknown. */
  start: number;
}
export interface YamlSeq {
  kind: 'seq';
  items: YamlNode[];
  start: number;
  /** Tagged `!unsafe` (see convert): the tag's offset. */
  unsafeAt?: number;
}
export interface YamlMap {
  kind: 'map';
  items: { key: YamlNode; value: YamlNode }[];
  start: number;
  /** Tagged `!unsafe` (see convert): the tag's offset. */
  unsafeAt?: number;
}
/** Aliases are resolved while building: an alias is the very node its anchor names. */
export type YamlNode = YamlScalar | YamlSeq | YamlMap;

export interface LoadedYaml {
  file: string;
  /**
   * The text was JSON: Ansible's DataLoader reads JSON with json.loads before trying YAML,
   * so plain scalars follow JSON (1e3 is a number) and keys are always strings.
   */
  json: boolean;
  /** The document's root node; null for an empty stream. */
  contents: YamlNode | null;
  /** 1-based line of a source offset. */
  lineAt: (offset: number) => number;
  warnings: string[];
}

export const isMap = (node: unknown): node is YamlMap => (node as YamlNode | null)?.kind === 'map';
export const isSeq = (node: unknown): node is YamlSeq => (node as YamlNode | null)?.kind === 'seq';
export const isScalar = (node: unknown): node is YamlScalar => (node as YamlNode | null)?.kind === 'scalar';

/** What a `!vault` scalar resolves to until the walker turns it into a VaultedValue with its origin. */
class VaultMarker {
  constructor(readonly ciphertext: string) {}
}

/** The value of a merge key (`<<`): its mapping (or list of mappings) is merged into the parent. */
const MERGE = Symbol('merge');

const BOOL_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

/** Base 60 digits ("1:30" is 90), exact for ints. */
function sexagesimal(text: string): bigint {
  let value = 0n;
  for (const part of text.split(':')) value = value * 60n + BigInt(part);
  return value;
}

/** PyYAML construct_yaml_int: every digit kept (see numbers.ts). */
function constructInt(source: string): PyInt {
  let text = source.replace(/_/g, '');
  let sign = 1n;
  if (text[0] === '-') sign = -1n;
  if (text[0] === '-' || text[0] === '+') text = text.slice(1);
  let value: bigint;
  if (text === '0') value = 0n;
  else if (text.startsWith('0b') || text.startsWith('0x')) value = BigInt(text);
  else if (text[0] === '0') value = BigInt(`0o${text.slice(1)}`);
  else if (text.includes(':')) value = sexagesimal(text);
  else value = BigInt(text);
  return pyInt(sign * value);
}

/** PyYAML construct_yaml_float: a float even when whole (`1.0`). */
function constructFloat(source: string): PyFloat {
  let text = source.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (text[0] === '-') sign = -1;
  if (text[0] === '-' || text[0] === '+') text = text.slice(1);
  if (text === '.inf') return new PyFloat(sign * Infinity);
  if (text === '.nan') return new PyFloat(NaN);
  if (text.includes(':')) {
    // PyYAML: each part is a float, the last one keeps its fraction ("1:30.5" is 90.5).
    let value = 0;
    for (const part of text.split(':')) value = value * 60 + Number(part);
    return new PyFloat(sign * value);
  }
  return new PyFloat(sign * Number(text));
}

/** PyYAML builds a date/datetime; ansible-inventory prints its isoformat(). */
function pyTimestamp(text: string): string {
  const m = /^(\d{4})-(\d\d?)-(\d\d?)(?:(?:[Tt]|[ \t]+)(\d\d?):(\d\d):(\d\d)(?:\.(\d*))?(?:[ \t]*(Z|([-+])(\d\d?)(?::(\d\d))?))?)?$/.exec(text)!;
  const two = (s: string | undefined): string => (s ?? '0').padStart(2, '0');
  const date = `${m[1]}-${two(m[2])}-${two(m[3])}`;
  if (m[4] === undefined) return date;
  let result = `${date}T${two(m[4])}:${m[5]}:${m[6]}`;
  const fraction = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  if (m[7] && Number(fraction) !== 0) result += `.${fraction}`;
  if (m[8] === 'Z') result += '+00:00';
  else if (m[9]) result += `${m[9]}${two(m[10])}:${two(m[11])}`;
  return result;
}

const NULL = /^(?:~|null|Null|NULL)?$/;
const STANDARD = 'tag:yaml.org,2002:';

/** PyYAML's implicit resolvers, in its order: what an untagged plain scalar is. */
function implicitValue(text: string): unknown {
  if (NULL.test(text)) return null;
  if (BOOL_TRUE.test(text)) return true;
  if (BOOL_FALSE.test(text)) return false;
  if (INT.test(text)) return constructInt(text);
  if (FLOAT.test(text)) return constructFloat(text);
  if (TIMESTAMP.test(text)) return pyTimestamp(text);
  if (text === '<<') return MERGE;
  return text;
}

// With an explicit tag PyYAML skips the resolver's pattern and calls int() / float() on the text
// (underscores removed, signs, 0x/0b/0 prefixes, base 60): what those accept.
const EXPLICIT_INT = /^[-+]?(?:0b[0-1_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-9_]+)*)$/;
const EXPLICIT_FLOAT = /^[-+]?(?:(?=\.?[0-9])[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*(?::[0-9_]+)+(?:\.[0-9_]*)?|\.(?:inf|nan))$/i;

const UNSAFE_TAG = '!unsafe';

/** The scalar tags Ansible's loader constructs; `test` is what PyYAML accepts for an explicit tag. */
const SCALAR_TAGS: Record<string, { test?: RegExp; construct: (text: string) => unknown }> = {
  [`${STANDARD}str`]: { construct: (s) => s },
  [`${STANDARD}null`]: { construct: () => null },
  // construct_yaml_bool looks the lowercased text up: `!!bool YeS` is True.
  [`${STANDARD}bool`]: { test: /^(?:yes|no|true|false|on|off)$/i, construct: (s) => /^(?:yes|true|on)$/i.test(s) },
  [`${STANDARD}int`]: { test: EXPLICIT_INT, construct: constructInt },
  [`${STANDARD}float`]: { test: EXPLICIT_FLOAT, construct: constructFloat },
  [`${STANDARD}timestamp`]: { test: TIMESTAMP, construct: pyTimestamp },
  [`${STANDARD}merge`]: { test: /^<<$/, construct: () => MERGE },
  // PyYAML resolves a scalar with the non-specific tag `!` like a plain one, even quoted.
  '!': { construct: implicitValue },
  '!vault': { construct: (s) => new VaultMarker(s) },
  '!vault-encrypted': { construct: (s) => new VaultMarker(s) },
  // Ansible's construct_yaml_unsafe: the scalar's text (`!unsafe 5` is the string "5"), never templated.
  [UNSAFE_TAG]: { construct: (s) => new UnsafeText(s) },
};
const COLLECTION_TAGS: Record<string, 'map' | 'seq'> = { [`${STANDARD}map`]: 'map', [`${STANDARD}seq`]: 'seq' };

/** A tag as written (`!!int`, `!<tag:yaml.org,2002:int>`, `!vault`) in its full form. */
function fullTag(written: string): string {
  if (written.startsWith('!!')) return STANDARD + written.slice(2);
  if (written.startsWith('!<') && written.endsWith('>')) return written.slice(2, -1);
  return written;
}

/** Offsets of line starts, for 1-based line numbers by binary search (built on first use). */
function lineFinder(text: string): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/** Parses one YAML document the way Ansible's DataLoader does. Throws InventoryError. */
export function parseAnsibleYaml(text: string, file: string): LoadedYaml {
  let json = false;
  try {
    JSON.parse(text);
    json = true;
  } catch {
    /* YAML then */
  }
  const lineAt = lineFinder(text);
  let events: Event[];
  try {
    // PyYAML has no depth limit of its own (Python's recursion limit stops it near 1,000).
    events = parseEvents(text, { filename: file, maxDepth: 1000 });
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    // JSON that this YAML parser refuses (rare: e.g. tabs as indentation): positions are lost.
    if (json) return { file, json, contents: fromJson(JSON.parse(text)), lineAt, warnings: [] };
    // Like PyYAML, js-yaml reports where it noticed the problem, the line Ansible names.
    const line = e.mark ? e.mark.line + 1 : undefined;
    throw new InventoryError(`YAML syntax error: ${unquotedReason(e.reason)}; fix the YAML (indentation, quotes, a missing ':')`, { file, line });
  }
  return { file, json, contents: buildTree(events, text, file, lineAt), lineAt, warnings: [] };
}

/**
 * What a tag or an alias that cannot be read is, without its text: an unquoted value starting
 * with `!` or `*` is read as one, and such a value is often a password (a vault-encrypted file's
 * too), which an error must never show (Ansible's does).
 */
const NOT_SHOWN = '(not shown: it may be a password)';
const TAG_PROBLEM = `an unquoted value starting with '!' is read as a YAML tag ${NOT_SHOWN}; quote the value if it is one, or remove the tag`;
const ALIAS_PROBLEM = `an unquoted value starting with '*' is read as a YAML alias ${NOT_SHOWN}; quote the value if it is one, or define its anchor (&NAME) before it`;

/** js-yaml's reason, with the source text some of them quote (a tag's, an alias's name) left out. */
function unquotedReason(reason: string): string {
  if (/\btag\b/.test(reason)) return `a tag that cannot be read: ${TAG_PROBLEM}`;
  if (/\balias\b/.test(reason)) return `an alias that cannot be read: ${ALIAS_PROBLEM}`;
  return reason;
}

/** The node tree of the stream's one document (null when there is none). */
function buildTree(events: Event[], text: string, file: string, lineAt: (offset: number) => number): YamlNode | null {
  const fail = (message: string, offset: number): never => {
    throw new InventoryError(message, { file, line: offset >= 0 ? lineAt(offset) : undefined });
  };
  const anchors = new Map<string, YamlNode>();
  const open: (YamlSeq | YamlMap)[] = [];
  // The key read for each open mapping, waiting for its value.
  const pendingKeys: (YamlNode | null)[] = [];
  let root: YamlNode | null = null;
  let documents = 0;
  let position = 0;
  const attach = (node: YamlNode): void => {
    const parent = open.at(-1);
    if (!parent) root = node;
    else if (parent.kind === 'seq') parent.items.push(node);
    else {
      const key = pendingKeys.at(-1);
      if (key) {
        parent.items.push({ key, value: node });
        pendingKeys[pendingKeys.length - 1] = null;
      } else pendingKeys[pendingKeys.length - 1] = node;
    }
  };
  const tagOf = (e: { tagStart: number; tagEnd: number }): string | undefined => (e.tagStart >= 0 ? fullTag(text.slice(e.tagStart, e.tagEnd)) : undefined);
  const anchor = (e: { anchorStart: number; anchorEnd: number }, node: YamlNode): void => {
    if (e.anchorStart >= 0) anchors.set(text.slice(e.anchorStart, e.anchorEnd), node);
  };

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        if (++documents > 1) {
          // PyYAML names the line of the second document's `---`.
          const marker = /^(?:---|\.\.\.)(?=\s|$)/m.exec(text.slice(position));
          fail('expected a single document in the stream but found another document; keep one document per file', marker ? position + marker.index : position);
        }
        break;
      case EVENT_ID.SCALAR: {
        const start = [event.tagStart, event.anchorStart, event.valueStart].find((o) => o >= 0) ?? position;
        position = Math.max(position, event.valueEnd, start);
        const node = scalar(event, text, tagOf(event), start, fail);
        anchor(event, node);
        attach(node);
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        position = Math.max(position, event.start);
        const kind = event.type === EVENT_ID.MAPPING ? 'map' : 'seq';
        const tag = tagOf(event);
        if (tag !== undefined && tag !== '!' && tag !== UNSAFE_TAG && COLLECTION_TAGS[tag] !== kind) {
          fail(
            `could not determine a constructor for the tag on a ${kind === 'map' ? 'mapping' : 'list'} ${NOT_SHOWN}; Ansible cannot read it either, remove the tag`,
            event.tagStart,
          );
        }
        const node = { kind, items: [], start: event.start, ...(tag === UNSAFE_TAG ? { unsafeAt: event.tagStart } : {}) } as YamlSeq | YamlMap;
        anchor(event, node);
        attach(node);
        open.push(node);
        pendingKeys.push(null);
        break;
      }
      case EVENT_ID.ALIAS: {
        const name = text.slice(event.anchorStart, event.anchorEnd);
        const target = anchors.get(name);
        if (!target) fail(`found an undefined alias: ${ALIAS_PROBLEM}`, event.anchorStart);
        attach(target!);
        break;
      }
      case EVENT_ID.POP:
        if (open.length > 0) {
          open.pop();
          pendingKeys.pop();
        }
        break;
    }
  }
  return root;
}

function scalar(event: ScalarEvent, text: string, tag: string | undefined, start: number, fail: (message: string, offset: number) => never): YamlScalar {
  const value = event.valueStart < 0 ? '' : getScalarValue(text, event);
  const plain = event.style === SCALAR_STYLE.PLAIN;
  if (tag === undefined) return { kind: 'scalar', value: plain ? implicitValue(value) : value, text: value, plain, start };
  const known = SCALAR_TAGS[tag];
  if (!known) return fail(`could not determine a constructor for a tag: ${TAG_PROBLEM}`, start);
  if (known.test && !known.test.test(value))
    // (the value is not quoted: it may be a secret of a vault-encrypted file, not masked yet)
    return fail(`the value is not a valid ${tag.replace(STANDARD, '!!')} value; fix the value or remove the tag`, start);
  return { kind: 'scalar', value: known.construct(value), text: value, plain: false, start };
}

/** Nodes for data JSON.parse read (the rare JSON the YAML parser refuses): no positions. */
function fromJson(value: unknown): YamlNode {
  if (Array.isArray(value)) return { kind: 'seq', items: value.map(fromJson), start: -1 };
  if (value !== null && typeof value === 'object') {
    const items = Object.entries(value).map(([k, v]) => ({ key: fromJson(k), value: fromJson(v) }));
    return { kind: 'map', items, start: -1 };
  }
  return { kind: 'scalar', value, text: typeof value === 'string' ? value : JSON.stringify(value), plain: typeof value !== 'string', start: -1 };
}

export function lineOf(loaded: LoadedYaml, node: unknown): number | undefined {
  const start = (node as YamlNode | null)?.start;
  return start !== undefined && start >= 0 ? loaded.lineAt(start) : undefined;
}

export function originOfNode(loaded: LoadedYaml, node: unknown): string {
  return originOf(loaded.file, lineOf(loaded, node));
}

type MapEntry = { key: unknown; keyNode: YamlNode; value: YamlNode };

/**
 * A `!unsafe` list or mapping as Ansible reads it: its strings are UnsafeText, its other
 * scalars keep their types, and a list or mapping inside it is EMPTY. (PyYAML builds the inner
 * collections after construct_yaml_unsafe has copied them through wrap_var; ansible-inventory
 * prints `{}` and `[]` there, and a play sees them empty too.)
 */
function unsafeCollection(loaded: LoadedYaml, node: YamlSeq | YamlMap, depth: number): unknown {
  const item = (child: YamlNode): unknown => {
    if (isSeq(child)) return [];
    if (isMap(child)) return {};
    const value = convert(loaded, child, depth + 1);
    return typeof value === 'string' ? new UnsafeText(value) : value;
  };
  if (isSeq(node)) return node.items.map(item);
  const result: Record<string, unknown> = {};
  for (const entry of entriesOf(loaded, node, depth)) setOwn(result, keyString(entry.key), item(entry.value));
  return result;
}

/**
 * The entries of a mapping node with merge keys applied and duplicate keys reported. A mapping
 * read as structure (hosts:, vars:, children:, a vars file) must not be `!unsafe`: Ansible
 * reads it with the mappings nested in it emptied (see unsafeCollection), so `hosts: !unsafe`
 * would drop every host's variables. Refused rather than guessed at.
 */
export function mapEntries(loaded: LoadedYaml, node: unknown, depth = 0): MapEntry[] {
  if (isMap(node) && node.unsafeAt !== undefined) {
    throw new InventoryError('a !unsafe tag on a mapping of the inventory itself (hosts, vars, children or a vars file); put !unsafe on each value instead', {
      file: loaded.file,
      line: loaded.lineAt(node.unsafeAt),
    });
  }
  return entriesOf(loaded, node, depth);
}

function entriesOf(loaded: LoadedYaml, node: unknown, depth: number): MapEntry[] {
  if (!isMap(node)) return [];
  // A merge of a mapping into itself (through an alias) would recurse forever.
  if (depth > 500)
    throw new InventoryError('a YAML merge key (<<) refers to its own mapping; remove the recursive alias', { file: loaded.file, line: lineOf(loaded, node) });
  const merged: MapEntry[] = [];
  const explicit: MapEntry[] = [];
  for (const pair of node.items) {
    const keyNode = pair.key;
    if (!isScalar(keyNode)) {
      // A Python dict cannot have a list or a dict as a key (PyYAML's own words, Ansible's line).
      throw new InventoryError(`found unacceptable key (unhashable type: '${isSeq(keyNode) ? 'list' : 'dict'}'); a key must be a single value`, {
        file: loaded.file,
        line: lineOf(loaded, keyNode),
      });
    }
    // A key is a name, never templated: a `!unsafe` key is its text.
    const key = loaded.json ? String(keyNode.value) : keyNode.value instanceof UnsafeText ? keyNode.value.text : keyNode.value;
    if (key === MERGE) {
      // `<<: *x` or `<<: [*x, *y]`: earlier maps win over later ones, explicit keys over all.
      const sources = isSeq(pair.value) ? [...pair.value.items] : [pair.value];
      // PyYAML refuses anything else (`<<: base` for `<<: *base` would drop every inherited key).
      const notMap = sources.find((s) => !isMap(s));
      if (notMap) {
        const what = isSeq(pair.value)
          ? `expected a mapping for merging, but found ${isSeq(notMap) ? 'sequence' : 'scalar'}`
          : 'expected a mapping or list of mappings for merging, but found scalar';
        throw new InventoryError(`while constructing a mapping: ${what}; a merge key (<<) takes an alias of a mapping (<<: *name) or a list of them`, {
          file: loaded.file,
          line: lineOf(loaded, notMap),
        });
      }
      for (const s of sources.reverse()) merged.push(...mapEntries(loaded, s, depth + 1));
      continue;
    }
    explicit.push({ key, keyNode, value: pair.value });
  }
  const result = new Map<string, MapEntry>();
  for (const entry of [...merged, ...explicit]) {
    const id = keyString(entry.key);
    const previous = result.get(id);
    if (previous) {
      loaded.warnings.push(
        `While constructing a mapping from ${loaded.file}, line ${lineOf(loaded, node)}, found a duplicate dict key (${id}). Using last defined value only.`,
      );
      // Python dicts keep the first position and the last value.
      Object.assign(previous, entry);
    } else result.set(id, { ...entry });
  }
  return [...result.values()];
}

/** How a mapping key prints in JSON (Python's json.dumps turns True into "true"). */
export function keyString(key: unknown): string {
  if (key === null || key === undefined) return 'null';
  return String(key);
}

/** A node as plain data (objects, arrays, VaultedValue for `!vault`, UnsafeText for `!unsafe`). */
export function convert(loaded: LoadedYaml, node: unknown, depth = 0): unknown {
  // An alias inside the node it points to would recurse forever.
  if (depth > 500)
    throw new InventoryError('a YAML alias refers to its own parent; remove the recursive alias', { file: loaded.file, line: lineOf(loaded, node) });
  if ((isSeq(node) || isMap(node)) && node.unsafeAt !== undefined) return unsafeCollection(loaded, node, depth);
  if (isScalar(node)) {
    if (node.value instanceof VaultMarker) return new VaultedValue(node.value.ciphertext, originOfNode(loaded, node));
    if (loaded.json && node.plain) return jsonNumber(node.text) ?? JSON.parse(node.text);
    return node.value === MERGE ? '<<' : node.value;
  }
  if (isSeq(node)) return node.items.map((item) => convert(loaded, item, depth + 1));
  if (isMap(node)) {
    const result: Record<string, unknown> = {};
    for (const entry of mapEntries(loaded, node)) setOwn(result, keyString(entry.key), convert(loaded, entry.value, depth + 1));
    return result;
  }
  return null;
}
