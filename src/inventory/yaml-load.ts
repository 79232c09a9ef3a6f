// YAML as Ansible reads it: PyYAML's YAML 1.1 implicit types (yes/no/on/off booleans, 0755
// octal, 1:30 sexagesimal, "1e3" stays a string, dates), merge keys, duplicate keys warn and
// the last one wins, `!vault` and `!unsafe` tags. Positions are kept so that every variable
// can name the line it came from.

import { Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type ScalarTag } from 'yaml';
import { InventoryError, originOf } from './errors.ts';
import { VaultedValue } from './model.ts';
import { jsonNumber, PyFloat, pyInt, type PyInt } from './numbers.ts';
import { setOwn } from './records.ts';

export interface LoadedYaml {
  file: string;
  /**
   * The text was JSON: Ansible's DataLoader reads JSON with json.loads before trying YAML,
   * so plain scalars follow JSON (1e3 is a number) and keys are always strings.
   */
  json: boolean;
  doc: Document.Parsed;
  lines: LineCounter;
  warnings: string[];
}

/** What a `!vault` scalar resolves to until the walker turns it into a VaultedValue with its origin. */
class VaultMarker {
  constructor(readonly ciphertext: string) {}
}

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

function implicitTag(tag: string, test: RegExp, resolve: (s: string) => unknown): ScalarTag {
  return { tag, test, default: true, resolve: (s: string) => resolve(s) };
}

const ANSIBLE_TAGS: ScalarTag[] = [
  implicitTag('tag:yaml.org,2002:null', /^(?:~|null|Null|NULL)?$/, () => null),
  implicitTag('tag:yaml.org,2002:bool', BOOL_TRUE, () => true),
  implicitTag('tag:yaml.org,2002:bool', BOOL_FALSE, () => false),
  implicitTag('tag:yaml.org,2002:int', INT, constructInt),
  implicitTag('tag:yaml.org,2002:float', FLOAT, constructFloat),
  implicitTag('tag:yaml.org,2002:timestamp', TIMESTAMP, pyTimestamp),
  { tag: '!vault', resolve: (s: string) => new VaultMarker(s) },
  { tag: '!vault-encrypted', resolve: (s: string) => new VaultMarker(s) },
  // The toolkit never templates, so an "unsafe" string is simply a string.
  { tag: '!unsafe', resolve: (s: string) => s },
];

/** Parses one YAML document the way Ansible's DataLoader does. Throws InventoryError. */
export function parseAnsibleYaml(text: string, file: string): LoadedYaml {
  let json = false;
  try {
    JSON.parse(text);
    json = true;
  } catch {
    /* YAML then */
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    schema: 'failsafe',
    customTags: ANSIBLE_TAGS,
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
    strict: false,
  });
  const first = doc.errors[0];
  if (first && json) {
    // JSON that this YAML parser refuses (rare: e.g. tabs as indentation): positions are lost.
    return { file, json, doc: new Document(JSON.parse(text)) as unknown as Document.Parsed, lines, warnings: [] };
  }
  if (first) {
    // yaml reports where a broken construct starts; PyYAML (and so Ansible) where it noticed
    // the problem, which is the end of the first error or of the one right after it.
    const start = lines.linePos(first.pos[0]).line;
    const line = Math.max(...doc.errors.filter((e) => lines.linePos(e.pos[0]).line <= start + 1).map((e) => lines.linePos(e.pos[1]).line));
    const message = first.message.split('\n')[0]!;
    throw new InventoryError(`YAML syntax error: ${message}; fix the YAML (indentation, quotes, a missing ':')`, { file, line });
  }
  const unknownTag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (unknownTag) {
    throw new InventoryError(`${unknownTag.message.split('\n')[0]}; Ansible cannot read this tag either, remove it`, {
      file,
      line: unknownTag.linePos?.[0]?.line ?? lines.linePos(unknownTag.pos[0]).line,
    });
  }
  return { file, json, doc, lines, warnings: [] };
}

export function lineOf(loaded: LoadedYaml, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? loaded.lines.linePos(range[0]).line : undefined;
}

export function originOfNode(loaded: LoadedYaml, node: unknown): string {
  return originOf(loaded.file, lineOf(loaded, node));
}

/** Follows aliases. */
export function deref(loaded: LoadedYaml, node: unknown): unknown {
  let current = node;
  for (let i = 0; i < 100 && isAlias(current); i++) current = current.resolve(loaded.doc);
  return current;
}

/** The entries of a mapping node with merge keys applied and duplicate keys reported. */
export function mapEntries(loaded: LoadedYaml, node: unknown): { key: unknown; keyNode: unknown; value: unknown }[] {
  const map = deref(loaded, node);
  if (!isMap(map)) return [];
  const merged: { key: unknown; keyNode: unknown; value: unknown }[] = [];
  const explicit: { key: unknown; keyNode: unknown; value: unknown }[] = [];
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const keyNode = deref(loaded, pair.key);
    const key = isScalar(keyNode) ? (loaded.json ? String(keyNode.value) : keyNode.value) : convert(loaded, keyNode);
    if (typeof key === 'symbol') {
      // `<<: *x` or `<<: [*x, *y]`: earlier maps win over later ones, explicit keys over all.
      const source = deref(loaded, pair.value);
      const sources = isSeq(source) ? source.items.map((n) => deref(loaded, n)) : [source];
      const collected: typeof merged = [];
      for (const s of sources.reverse()) collected.push(...mapEntries(loaded, s));
      merged.push(...collected);
      continue;
    }
    explicit.push({ key, keyNode, value: pair.value });
  }
  const result = new Map<string, { key: unknown; keyNode: unknown; value: unknown }>();
  for (const entry of [...merged, ...explicit]) {
    const id = keyString(entry.key);
    if (result.has(id)) {
      loaded.warnings.push(
        `While constructing a mapping from ${loaded.file}, line ${lineOf(loaded, map)}, found a duplicate dict key (${id}). Using last defined value only.`,
      );
    }
    // Python dicts keep the first position and the last value.
    const previous = result.get(id);
    if (previous) Object.assign(previous, entry);
    else result.set(id, { ...entry });
  }
  return [...result.values()];
}

/** How a mapping key prints in JSON (Python's json.dumps turns True into "true"). */
export function keyString(key: unknown): string {
  if (key === null || key === undefined) return 'null';
  return String(key);
}

/** A node as plain data (objects, arrays, VaultedValue for `!vault`). */
export function convert(loaded: LoadedYaml, node: unknown, depth = 0): unknown {
  // An alias inside the node it points to would recurse forever.
  if (depth > 500)
    throw new InventoryError('a YAML alias refers to its own parent; remove the recursive alias', { file: loaded.file, line: lineOf(loaded, node) });
  const n = deref(loaded, node);
  if (n === null || n === undefined) return null;
  if (isScalar(n)) {
    if (n.value instanceof VaultMarker) return new VaultedValue(n.value.ciphertext, originOfNode(loaded, n));
    if (loaded.json && n.type === 'PLAIN' && typeof n.source === 'string') return jsonNumber(n.source) ?? JSON.parse(n.source);
    return n.value === undefined ? null : n.value;
  }
  if (isSeq(n)) return n.items.map((item) => convert(loaded, item, depth + 1));
  if (isMap(n)) {
    const result: Record<string, unknown> = {};
    for (const entry of mapEntries(loaded, n)) setOwn(result, keyString(entry.key), convert(loaded, entry.value, depth + 1));
    return result;
  }
  return null;
}
