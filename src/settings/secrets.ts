// The one place that decides what is secret, and how secrets are hidden in structured text.
//
// What is secret: the variables table's `secret: true` rows (src/settings/variables.ts) and
// Ansible's connection passwords below; at run time also every value out of an Ansible Vault
// and the passwords typed at a prompt. Nothing else: no name pattern, so a server-side
// password the toolkit never reads does not mask its letters in every message. Each run puts
// the values of these in one SecretSet (src/output/redact.ts) that the output sink owns and
// every writer uses; the masks here hide them by field where the structure is known (diffs of
// agent.yaml and trento.alloy), whatever their length.
import { createRequire } from 'node:module';
import { BECOME_PASSWORD_VARIABLES, PARAMIKO_PASSWORD_VARIABLES, SSH_PASSWORD_VARIABLES } from '../exec/connection.ts';
import type { AgentConfigKey } from './agent-config.ts';
import { VARIABLES } from './variables.ts';

/** What every hidden value is replaced by. */
export const MASK = '********';

/** agent.yaml keys whose values are credentials: those the table's secret rows are written to. */
export const SECRET_AGENT_KEYS: readonly AgentConfigKey[] = VARIABLES.flatMap((v) => (v.secret && v.agentKey ? [v.agentKey] : []));
/**
 * agent.yaml keys that are URLs which may carry a password (user:password@host): the URL built
 * from agent_rabbitmq_password (a secret row with no key of its own), and every URL setting of
 * the table (an admin may put credentials in the server's or the remote-write URL; Alloy and
 * the agent then send them as basic auth), or an old file's.
 */
export const URL_WITH_PASSWORD_KEYS: readonly AgentConfigKey[] = [
  'facts-service-url',
  ...VARIABLES.flatMap((v) => (v.kind === 'http-url' && v.agentKey ? [v.agentKey] : [])),
];
/**
 * Alloy attributes whose values are credentials: where trento.alloy writes
 * prometheus-auth-password and prometheus-auth-bearer-token (basic_auth, bearer_token), and the
 * others an older or site trento.alloy may hold (authorization's credentials, oauth2's
 * client_secret, tls_config's key_pem). A rotated one is in no run's list of values: only its
 * attribute hides it in a diff.
 */
export const SECRET_ALLOY_ATTRIBUTES: readonly string[] = ['password', 'bearer_token', 'credentials', 'client_secret', 'key_pem', 'secret_key'];

/**
 * Shorter secrets are not searched for in free text: "trento" or "pass" would be masked inside
 * every word that contains them, making messages unreadable while hiding little. Structured
 * output (diffs, agent.yaml and Alloy keys, the report's fields) still masks them by field, and
 * validation warns that they are too short to hide in free text.
 */
export const MIN_FREE_TEXT_SECRET = 8;

/** Connection variables of Ansible that hold credentials: the passwords the connection reads
 *  (src/exec/connection.ts), and those of other become methods, which it refuses but never shows. */
export const ANSIBLE_SECRET_VARIABLES: readonly string[] = [
  ...SSH_PASSWORD_VARIABLES,
  ...PARAMIKO_PASSWORD_VARIABLES,
  ...BECOME_PASSWORD_VARIABLES,
  'ansible_sudo_password',
  'ansible_su_pass',
  'ansible_su_password',
];

/** Every variable name known to be secret: the table's secret rows plus Ansible's own. */
export const SECRET_VARIABLES: readonly string[] = [...VARIABLES.filter((v) => v.secret).map((v) => v.name), ...ANSIBLE_SECRET_VARIABLES];

/** The secret variables among `names` and every variable their values were built from
 *  (`agent_web_api_key: "{{ vault_trento_api_key }}"` makes vault_trento_api_key one). */
export function secretFeeders(names: readonly string[], sources: (name: string) => string[]): Set<string> {
  return new Set(names.flatMap((name) => [name, ...sources(name)]));
}

/** A Jinja error of a variable in `secret` says what is wrong, not with which word of its value
 *  (`filter "h4x" is not supported` would show a piece of a password written as a template). */
export function withoutSecretText<P extends { variable: string; message: string }>(problem: P, secret: ReadonlySet<string>): P {
  if (!secret.has(problem.variable) || !problem.message.startsWith('cannot evaluate its Jinja')) return problem;
  return {
    ...problem,
    message: 'cannot evaluate its Jinja (the reason is not shown: it would quote part of a secret). Put the plain value instead, or mark it !unsafe.',
  };
}

/** A URL's userinfo password: the authority ends at the first "/", "?" or "#", and the password
 *  at its last "@", as Go's url.Parse reads it. */
const URL_PASSWORD = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#]*)@/u;

/** Where Go finds no password (the authority ends before any "@"), everything between
 *  `scheme://user:` and the last "@": a password an older file wrote raw (the official role's
 *  template) may hold a "/", "?" or "#" that ends Go's reading of it, and is hidden all the same. */
const URL_PASSWORD_RAW = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*:)(.*)@/u;

/** The URL with its userinfo password replaced by the mask. */
export function maskUrlPassword(text: string): string {
  return URL_PASSWORD.test(text) ? text.replace(URL_PASSWORD, `$1${MASK}@`) : text.replace(URL_PASSWORD_RAW, `$1${MASK}@`);
}

/** The password in a URL's userinfo as written and decoded (as it is sent; the same when nothing
 *  is encoded), or [] when it has none: output may quote either spelling. */
export function urlPasswords(text: string): string[] {
  const raw = URL_PASSWORD.exec(text)?.[2] ?? '';
  if (raw === '') return [];
  try {
    return [...new Set([raw, decodeURIComponent(raw)])];
  } catch {
    return [raw];
  }
}

// ---------------------------------------------------------------------------------------
// agent.yaml

// Any case: the agent (viper) reads `API-KEY:` as api-key.
const SECRET_KEY_PATTERN = new RegExp(`^(\\s*-?\\s*["']?(?:${SECRET_AGENT_KEYS.join('|')})["']?\\s*:)(.*)$`, 'iu');
const URL_KEY_PATTERN = new RegExp(`^(\\s*["']?(?:${URL_WITH_PASSWORD_KEYS.join('|')})["']?\\s*:\\s*["']?)(.*)$`, 'iu');

const SECRET_KEY_INSIDE = new RegExp(`[{,]\\s*["']?(?:${SECRET_AGENT_KEYS.join('|')})["']?\\s*:`, 'iu');

const indentOf = (line: string): number => /^\s*/u.exec(line)?.[0].length ?? 0;

/**
 * Line by line, for text that is not valid YAML (a hand-broken old file). The lines that
 * follow a secret key and are indented deeper (a block or multi-line value) are masked too.
 */
function maskAgentYamlLines(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let secretIndent: number | undefined; // set while inside a secret's continuation lines
  for (const whole of lines) {
    // A CR LF file: the patterns read the line without its CR, which it keeps.
    const cr = whole.endsWith('\r') ? '\r' : '';
    const line = cr ? whole.slice(0, -1) : whole;
    if (secretIndent !== undefined && (line.trim() === '' || indentOf(line) > secretIndent)) {
      out.push(line.trim() === '' ? whole : `${' '.repeat(indentOf(line))}${MASK}${cr}`);
      continue;
    }
    secretIndent = undefined;
    const secret = SECRET_KEY_PATTERN.exec(line);
    const url = URL_KEY_PATTERN.exec(line);
    if (secret) {
      secretIndent = indentOf(line);
      out.push(`${secret[1]} "${MASK}"${cr}`);
    } else if (url) {
      out.push(`${url[1]}${maskUrlPassword(url[2] ?? '')}${cr}`);
    } else if (SECRET_KEY_INSIDE.test(line)) {
      // A secret key inside a flow mapping ({api-key: ..., ...}): the whole line.
      out.push(`${' '.repeat(indentOf(line))}${MASK}${cr}`);
    } else {
      out.push(whole);
    }
  }
  return out.join('\n');
}

// Libraries loaded on first use (synchronous, cached by require).
const load = createRequire(import.meta.url);

/**
 * agent.yaml (or any YAML) with the values of secret keys replaced, at any depth and in any
 * scalar style (quoted, plain, block), and the password of facts-service-url masked.
 * Everything else is kept byte for byte, so a diff of two masked files shows real changes.
 */
export function maskAgentYaml(text: string): string {
  return maskCommentedSecrets(maskAgentYamlValues(text));
}

// A comment line holding a key and its value (`# api-key: OLD`, an admin's note of the key
// before a rotation): no run's list knows that value.
const COMMENT_LINE = /^(\s*#+\s*)(.*)$/u;

/** The secrets of agent.yaml's comment lines masked as its keys' values are. */
function maskCommentedSecrets(text: string): string {
  return text
    .split('\n')
    .map((whole) => {
      const cr = whole.endsWith('\r') ? '\r' : '';
      const comment = COMMENT_LINE.exec(cr ? whole.slice(0, -1) : whole);
      if (!comment) return whole;
      const inner = comment[2]!;
      const secret = SECRET_KEY_PATTERN.exec(inner);
      if (secret) return `${comment[1]}${secret[1]} "${MASK}"${cr}`;
      const url = URL_KEY_PATTERN.exec(inner);
      return url ? `${comment[1]}${url[1]}${maskUrlPassword(url[2] ?? '')}${cr}` : whole;
    })
    .join('\n');
}

function maskAgentYamlValues(text: string): string {
  // The yaml library is loaded by the first agent.yaml diff (require is synchronous and
  // caches): a run that shows none never pays its ~25 ms of start-up.
  const { isAlias, isCollection, isPair, isScalar, parseDocument, visit } = load('yaml') as typeof import('yaml');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return maskAgentYamlLines(text);
  const edits: Array<{ start: number; end: number; replacement: string }> = [];
  visit(doc, {
    Pair(_key, pair) {
      if (!isPair(pair) || !isScalar(pair.key)) return;
      // Any case: the agent (viper) reads `API-KEY:` as api-key.
      const name = String(pair.key.value).toLowerCase();
      const value = pair.value as { range?: [number, number, number] | null } | null;
      const range = value?.range;
      if (!range) return;
      const source = text.slice(range[0], range[1]);
      // A block scalar's range ends with its line break(s): keep them.
      const trailing = /\s*$/u.exec(source)?.[0] ?? '';
      // A value on one line: what follows it there too. An older file written raw (the official
      // role's template) may have a secret YAML read as a value and a comment ("pw #2024").
      // (Only a comment: in a flow mapping, "{api-key: x, b: 1}", the rest is other keys.)
      const lineEnd = (text.indexOf('\n', range[1]) + 1 || text.length + 1) - 1;
      // A quoted value ends at its quote: a comment after it is no part of it.
      const plain = !isScalar(pair.value) || pair.value.type === 'PLAIN';
      const oneLine = plain && !source.trimEnd().includes('\n') && /^[ \t]*(#.*)?\r?$/u.test(text.slice(range[1], lineEnd));
      if ((SECRET_AGENT_KEYS as readonly string[]).includes(name)) {
        // Whole value, whatever its style or type (a mapping or list is hidden too), from the
        // key's colon: a tag or anchor before it ("!x", "&a" written raw) may be the secret.
        const keyEnd = (pair.key as { range?: [number, number, number] | null }).range?.[1] ?? range[0];
        const colon = text.indexOf(':', keyEnd);
        const start = colon >= 0 && colon < range[0] ? colon + 1 : range[0];
        const end = oneLine ? lineEnd - (text[lineEnd - 1] === '\r' ? 1 : 0) : range[1];
        edits.push({ start, end, replacement: `${start === range[0] ? '' : ' '}"${MASK}"${oneLine ? '' : trailing}` });
        // `api-key: *alias`: the anchored value elsewhere is the secret itself.
        const anchored = isAlias(pair.value) ? pair.value.resolve(doc) : undefined;
        const anchoredRange = anchored?.range;
        if (anchoredRange && (isScalar(anchored) || isCollection(anchored))) {
          const anchoredSource = text.slice(anchoredRange[0], anchoredRange[1]);
          const anchorTrailing = /\s*$/u.exec(anchoredSource)?.[0] ?? '';
          edits.push({ start: anchoredRange[0], end: anchoredRange[1], replacement: `"${MASK}"${anchorTrailing}` });
        }
      } else if ((URL_WITH_PASSWORD_KEYS as readonly string[]).includes(name) && isScalar(value) && typeof value.value === 'string') {
        // The rest of its line with it: a raw password with " #" in it is read as a comment there.
        const written = oneLine ? text.slice(range[0], lineEnd) : source;
        const masked = maskUrlPassword(value.value);
        // Mask inside the source text to keep its quoting (as maskUrlPassword reads it); re-quote
        // only if that did not work.
        const quote = /^["']/u.test(written) ? written[0]! : '';
        const inPlace = `${quote}${maskUrlPassword(written.slice(quote.length))}`;
        if (inPlace === written && masked === value.value) return;
        edits.push({ start: range[0], end: oneLine ? lineEnd : range[1], replacement: inPlace !== written ? inPlace : `${JSON.stringify(masked)}${trailing}` });
      }
    },
  });
  return edits.sort((a, b) => b.start - a.start).reduce((acc, e) => acc.slice(0, e.start) + e.replacement + acc.slice(e.end), text);
}

// ---------------------------------------------------------------------------------------
// trento.alloy

// An Alloy attribute line `  password = "..."`. Alloy's quoted strings cannot span lines (a
// newline inside is written \n), so masking to the end of the line covers any value, even one
// that an unescaping generator broke with a stray quote. Its raw strings (`...`) can: see below.
// A line commented out (`// password = "OLD"`, `/* bearer_token = ... */`) too.
const ALLOY_SECRET_LINE = new RegExp(`^(\\s*(?:(?://|/\\*)\\s*)?(?:${SECRET_ALLOY_ATTRIBUTES.join('|')})\\s*=\\s*).*$`, 'gmu');
// An endpoint's `url = "https://user:PASSWORD@host/..."`: Alloy sends the userinfo as basic auth.
// An escaped character (\") does not end the password: the validator refuses such a URL (Go
// does), but a mask must not depend on it.
// A proxy_url's userinfo is a password too.
const ALLOY_URL_PASSWORD = /^(\s*(?:(?:\/\/|\/\*)\s*)?(?:proxy_)?url\s*=\s*"[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:"]*:)(?:\\[^\n]|[^/"\n])*@/gmu;

// An HTTP header of an endpoint's `headers = { "Authorization" = "Bearer ..." }`.
// (Or a list of values: `"Authorization" = ["Bearer ..."]`; or the line commented out.)
const ALLOY_AUTH_HEADER = /^(\s*(?:(?:\/\/|\/\*)\s*)?"?authorization"?\s*=\s*)(?:"(?:[^"\\\n]|\\.)*"|\[[^\]\n]*\]?)/gimu;
// The same attributes and header written inside a block or map on one line
// (`oauth2 { client_secret = "..." }`, `headers = { "X" = "a", "Authorization" = "..." }`).
// (Alloy's raw `strings` too.)
const ALLOY_SECRET_INLINE = new RegExp(
  `([{,]\\s*)((?:${SECRET_ALLOY_ATTRIBUTES.join('|')}|"?authorization"?)\\s*=\\s*)(?:"(?:[^"\\\\\\n]|\\\\.)*"|\`[^\`]*\`)`,
  'giu',
);

// The same attributes and header with a raw string, which may span lines (a PEM in key_pem):
// the whole string, to its closing backtick or the end of the file, each line it spans kept as a
// line (a diff keeps its shape), the text after the backtick kept.
const ALLOY_SECRET_RAW = new RegExp(`^(\\s*(?:${SECRET_ALLOY_ATTRIBUTES.join('|')}|"?authorization"?)\\s*=\\s*)\`([^\`]*)(?:\`|(?![\\s\\S]))`, 'gimu');
const maskRaw = (_match: string, prefix: string, body: string) =>
  `${prefix}"${MASK}"${body
    .split('\n')
    .slice(1)
    .map(() => `\n${MASK}`)
    .join('')}`;

export function maskAlloy(text: string): string {
  return text
    .replace(ALLOY_SECRET_RAW, maskRaw)
    .replace(ALLOY_SECRET_LINE, `$1"${MASK}"`)
    .replace(ALLOY_URL_PASSWORD, `$1${MASK}@`)
    .replace(ALLOY_AUTH_HEADER, `$1"${MASK}"`)
    .replace(ALLOY_SECRET_INLINE, `$1$2"${MASK}"`);
}
