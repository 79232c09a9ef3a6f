// The one place that decides what is secret, and how secrets are hidden.
//
// Why one place: diffs (--diff), logs, the JSON report and error messages all show settings;
// each of them must hide the same things, including in files written by someone else.
import { isAlias, isCollection, isPair, isScalar, parseDocument, visit } from 'yaml';
import type { AgentConfig, AgentConfigKey } from './agent-config.ts';
import { VARIABLES } from './variables.ts';
import { isPyNumber } from '../inventory/numbers.ts';

export { MASK } from '../exec/command.ts';
import { MASK } from '../exec/command.ts';

/** agent.yaml keys whose values are credentials. */
export const SECRET_AGENT_KEYS: readonly AgentConfigKey[] = ['api-key', 'prometheus-auth-password', 'prometheus-auth-bearer-token'];
/** agent.yaml keys that are URLs which may carry a password (user:password@host). */
export const URL_WITH_PASSWORD_KEYS: readonly AgentConfigKey[] = ['facts-service-url'];
/** Alloy attributes whose values are credentials (prometheus.remote_write endpoint). */
export const SECRET_ALLOY_ATTRIBUTES: readonly string[] = ['password', 'bearer_token'];

/**
 * Shorter secrets are not searched for in free text: "trento" or "pass" would be masked inside
 * every word that contains them, making messages unreadable while hiding little. Structured
 * output (diffs, agent.yaml and Alloy keys, the report's fields) still masks them by field, and
 * validation warns that they are too short to hide in free text.
 */
export const MIN_FREE_TEXT_SECRET = 8;

/** Connection variables of Ansible that hold credentials. */
export const ANSIBLE_SECRET_VARIABLES: readonly string[] = [
  'ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password', 'ansible_become_password', 'ansible_become_pass',
  'ansible_sudo_pass', 'ansible_sudo_password', 'ansible_su_pass', 'ansible_su_password',
];

/** Every variable name known to be secret: the table's secret rows plus Ansible's own. */
export const SECRET_VARIABLES: readonly string[] = [...VARIABLES.filter((v) => v.secret).map((v) => v.name), ...ANSIBLE_SECRET_VARIABLES];

// Names nobody listed but that are credentials by their name (vault_trento_api_key,
// smtp_password...): the last words of the name. Only the end counts, so a path such as
// ansible_ssh_private_key_file is not taken for the key itself.
const SECRET_NAME = /(?:^|_)(?:pass|passwd|password|passphrase|secret|token|api_key|apikey|private_key)$/iu;

export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLES.includes(name) || SECRET_NAME.test(name);
}

/** A copy of a variables map with secret values replaced by the mask (for -v output, reports). */
export function maskVariables(vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, isSecretVariable(name) && value != null ? MASK : value]));
}

/** The password of a URL's userinfo, in the form written (percent-encoded) and decoded. */
function urlPasswords(text: string): string[] {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:([^/]*)@/u.exec(text);
  const raw = match?.[1];
  if (raw === undefined || raw === '') return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // keep the raw form only
  }
  return [...new Set([raw, decoded])];
}

/** The URL with its userinfo password replaced by the mask. */
export function maskUrlPassword(text: string): string {
  // Greedy up to the last "@" of the authority, as Go's url.Parse reads it.
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:)[^/]*@/u, `$1${MASK}@`);
}

/**
 * Every secret string in a config, longest first, to scrub free text (command output, error
 * messages) with redact().
 */
export function secretValues(config: AgentConfig): string[] {
  const values = [
    ...SECRET_AGENT_KEYS.map((key) => config[key]),
    ...URL_WITH_PASSWORD_KEYS.flatMap((key) => urlPasswords(String(config[key] ?? ''))),
  ].filter((v): v is string => typeof v === 'string' && v !== '');
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

/** The values of a host's secret variables (sudo password, API key...), to redact() output. */
export function secretVariableValues(vars: Readonly<Record<string, unknown>>): string[] {
  const values = Object.entries(vars)
    .filter(([name, value]) => isSecretVariable(name) && (typeof value === 'string' || isPyNumber(value)))
    .map(([, value]) => String(value))
    .filter((value) => value !== '' && !value.includes('{{'));
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

/**
 * Replaces every occurrence of the given values in free text. Plain string search (no
 * regular expressions built from secrets, so metacharacters in a password are harmless).
 */
export function redact(text: string, secrets: readonly string[]): string {
  return [...secrets]
    .filter((s) => s !== '')
    .sort((a, b) => b.length - a.length)
    .reduce((acc, secret) => acc.split(secret).join(MASK), text);
}

// ---------------------------------------------------------------------------------------
// agent.yaml

const SECRET_KEY_PATTERN = new RegExp(`^(\\s*-?\\s*["']?(?:${SECRET_AGENT_KEYS.join('|')})["']?\\s*:)(.*)$`, 'u');
const URL_KEY_PATTERN = new RegExp(`^(\\s*["']?(?:${URL_WITH_PASSWORD_KEYS.join('|')})["']?\\s*:\\s*["']?)(.*)$`, 'u');

const indentOf = (line: string): number => /^\s*/u.exec(line)?.[0].length ?? 0;

/**
 * Line by line, for text that is not valid YAML (a hand-broken old file). The lines that
 * follow a secret key and are indented deeper (a block or multi-line value) are masked too.
 */
function maskAgentYamlLines(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let secretIndent: number | undefined; // set while inside a secret's continuation lines
  for (const line of lines) {
    if (secretIndent !== undefined && (line.trim() === '' || indentOf(line) > secretIndent)) {
      out.push(line.trim() === '' ? line : `${' '.repeat(indentOf(line))}${MASK}`);
      continue;
    }
    secretIndent = undefined;
    const secret = SECRET_KEY_PATTERN.exec(line);
    const url = URL_KEY_PATTERN.exec(line);
    if (secret) {
      secretIndent = indentOf(line);
      out.push(`${secret[1]} "${MASK}"`);
    } else if (url) {
      out.push(`${url[1]}${maskUrlPassword(url[2] ?? '')}`);
    } else {
      out.push(line);
    }
  }
  return out.join('\n');
}

/**
 * agent.yaml (or any YAML) with the values of secret keys replaced, at any depth and in any
 * scalar style (quoted, plain, block), and the password of facts-service-url masked.
 * Everything else is kept byte for byte, so a diff of two masked files shows real changes.
 */
export function maskAgentYaml(text: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return maskAgentYamlLines(text);
  const edits: Array<{ start: number; end: number; replacement: string }> = [];
  visit(doc, {
    Pair(_key, pair) {
      if (!isPair(pair) || !isScalar(pair.key)) return;
      const name = String(pair.key.value);
      const value = pair.value as { range?: [number, number, number] | null } | null;
      const range = value?.range;
      if (!range) return;
      const source = text.slice(range[0], range[1]);
      // A block scalar's range ends with its line break(s): keep them.
      const trailing = /\s*$/u.exec(source)?.[0] ?? '';
      if ((SECRET_AGENT_KEYS as readonly string[]).includes(name)) {
        // Whole value, whatever its style or type (a mapping or list is hidden too).
        edits.push({ start: range[0], end: range[1], replacement: `"${MASK}"${trailing}` });
        // `api-key: *alias`: the anchored value elsewhere is the secret itself.
        const anchored = isAlias(pair.value) ? pair.value.resolve(doc) : undefined;
        const anchoredRange = anchored?.range;
        if (anchoredRange && (isScalar(anchored) || isCollection(anchored))) {
          const anchoredSource = text.slice(anchoredRange[0], anchoredRange[1]);
          const anchorTrailing = /\s*$/u.exec(anchoredSource)?.[0] ?? '';
          edits.push({ start: anchoredRange[0], end: anchoredRange[1], replacement: `"${MASK}"${anchorTrailing}` });
        }
      } else if ((URL_WITH_PASSWORD_KEYS as readonly string[]).includes(name) && isScalar(value) && typeof value.value === 'string') {
        const masked = maskUrlPassword(value.value);
        if (masked === value.value) return;
        // Mask inside the source text to keep its quoting; re-quote only if that did not work.
        const inPlace = source.replace(/(:\/\/[^/@:\s"']*:)[^/\s"']*@/u, `$1${MASK}@`);
        edits.push({ start: range[0], end: range[1], replacement: inPlace !== source ? inPlace : `${JSON.stringify(masked)}${trailing}` });
      }
    },
  });
  return edits
    .sort((a, b) => b.start - a.start)
    .reduce((acc, e) => acc.slice(0, e.start) + e.replacement + acc.slice(e.end), text);
}

// ---------------------------------------------------------------------------------------
// trento.alloy

// An Alloy attribute line `  password = "..."`. Alloy strings cannot span lines (a newline
// inside is written \n), so masking to the end of the line covers any value, even one that
// an unescaping generator broke with a stray quote.
const ALLOY_SECRET_LINE = new RegExp(`^(\\s*(?:${SECRET_ALLOY_ATTRIBUTES.join('|')})\\s*=\\s*).*$`, 'gmu');

export function maskAlloy(text: string): string {
  return text.replace(ALLOY_SECRET_LINE, `$1"${MASK}"`);
}
