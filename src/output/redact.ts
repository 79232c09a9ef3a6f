// The run's one list of secret values, and the last line of defence for them: every byte any
// output writes (terminal lines, diffs, -vvvv, --json, --junit, --list-hosts, error messages)
// goes through the same SecretSet.
//
// Why one object: with a redactor per writer, each writer had to be told about every value
// (vault values, typed passwords, each host's credentials) and one of them was always told
// less. Now the sink creates the set, the entry point fills it before the first line is
// written, and every writer takes its text from the sink or from `sink.secrets` itself, never
// building its own. What is secret is decided in src/settings/secrets.ts (the variables
// table's `secret: true` rows, Ansible's connection passwords) plus whatever came out of an
// Ansible Vault and the passwords typed at a prompt. A value that only becomes known later
// (a credential of a new check) is add()ed to this set before it can be printed, never given
// a redactor of its own.
//
// Secrets are also masked where they are used (diffs of agent.yaml and trento.alloy by key,
// file contents shown by size or label); this catches whatever a host echoes back (an error
// quoting a config line, a zypper message, ...).
import { urlCredential } from '../util/url-credential.ts';
import { MASK, MIN_FREE_TEXT_SECRET } from '../settings/secrets.ts';
import { escapeControls } from './format.ts';
import { escapeAlloyString } from '../render/alloy-string.ts';
import { yamlDoubleQuoted } from '../render/yaml-string.ts';

export type Redactor = (text: string) => string;

export interface SecretSet {
  /** One value or many more to hide from now on (short ones are left to the structured masks). */
  add(values: string | Iterable<string>): void;
  /** The text with every known secret, in each spelling below, replaced by the mask. */
  readonly redact: Redactor;
}

/** Inside URLs; inside facts-service-url, as agent.yaml holds it; and as a program that read that
 *  URL may print it. None for a value no URL can hold (a lone UTF-16 surrogate, from a JSON
 *  inventory, which encodeURIComponent refuses: it would end the run before any host). */
function inUrls(value: string): string[] {
  try {
    return [encodeURIComponent(value), urlCredential(value), decodedUrlCredential(value)];
  } catch {
    return [];
  }
}

/** A value written already encoded (`p%40ss`), decoded (`p@ss`); else the value itself. */
function decodedUrlCredential(value: string): string {
  try {
    return /%[0-9A-Fa-f]{2}/u.test(value) ? decodeURIComponent(value) : value;
  } catch {
    return value; // not UTF-8 once decoded: no program prints it decoded either
  }
}

/** The spellings a value has in output: as is, inside a URL, a JSON string or an Alloy string,
 *  and as the terminal shows it (control characters escaped before the sink masks a line). */
function spellings(value: string): string[] {
  return [
    value,
    escapeControls(value),
    ...inUrls(value),
    JSON.stringify(value).slice(1, -1), // inside JSON or escaped strings
    value.replace(/\\/g, '\\\\').replace(/"/g, '\\"'), // inside a string escaped by hand
    // as the toolkit's own files write it (agent.yaml's YAML strings, trento.alloy's Alloy
    // strings: control and invisible characters escaped their own way, "\a", "\N", "\u0085")
    yamlDoubleQuoted(value).slice(1, -1),
    escapeAlloyString(value),
  ];
}

/** A line of a secret of several lines that is itself secret: not blanks, not PEM's armour
 *  ("-----BEGIN CERTIFICATE-----" would be masked in every output that shows one). */
const isSecretLine = (line: string) => line.trim() !== '' && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(line.trim());

/** One alternation of every spelling, longest first so overlapping values mask fully. */
function patternOf(values: ReadonlySet<string>): RegExp | undefined {
  // A spelling shorter than the value (decoded: "%2Ftrento" is "/trento") is held to the same
  // minimum, or it would mask that text inside every path holding it.
  const variants = [...new Set([...values].flatMap(spellings))].filter((v) => v.length >= MIN_FREE_TEXT_SECRET).sort((a, b) => b.length - a.length);
  if (variants.length === 0) return undefined;
  // Escaped, so metacharacters in a password are only text.
  return new RegExp(variants.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

/**
 * A set of secret values. Values shorter than MIN_FREE_TEXT_SECRET are not searched for in
 * free text ("trento" would be masked inside every word holding it); the structured masks hide
 * them by field, and validation warns about them.
 */
export function secretSet(initial: Iterable<string> = []): SecretSet {
  const values = new Set<string>();
  let pattern: RegExp | undefined;
  const add = (more: string | Iterable<string>) => {
    const before = values.size;
    for (const v of typeof more === 'string' ? [more] : more) {
      // A value of several lines (a PEM key from a vault) also line by line: output indents or
      // wraps each line of what a host echoed, and the whole value no longer matches there.
      for (const piece of v.includes('\n') ? [v, ...v.split(/\r?\n/).filter(isSecretLine)] : [v]) if (piece.length >= MIN_FREE_TEXT_SECRET) values.add(piece);
    }
    if (values.size !== before) pattern = patternOf(values);
  };
  add(initial);
  return {
    add,
    redact: (text) => (pattern ? text.replace(pattern, MASK) : text),
  };
}
