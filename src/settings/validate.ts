// From a host's inventory variables to a checked AgentConfig.
//
// Two steps, because the mode is only known after facts:
//  - validateHostVars: static checks (types, enums, URLs, durations, required values,
//    misspelt names) before any connection, so a bad inventory changes nothing anywhere;
//  - agentConfigFor: the mode's defaults and the checks the agent itself makes at start
//    (push needs a URL, each auth method needs its credentials), then the agent.yaml keys.
// Every problem is one SettingProblem naming the variable and the file it came from. Where the
// agent has an error for the same problem, its wording is used, so a user who searches for
// the agent's message finds the same thing.
import { urlCredential } from '../util/url-credential.ts';
import type { AgentConfig, AuthMethod, PrometheusMode } from './agent-config.ts';
import { AUTH_METHODS, PROMETHEUS_MODES } from './agent-config.ts';
import { distance } from 'fastest-levenshtein';
import { parseGoDuration, positiveDurationProblem } from './go-duration.ts';
import { isPyNumber, PyFloat } from '../inventory/numbers.ts';
import { UnsafeText } from '../inventory/model.ts';
import { OTHER_KNOWN_VARIABLES, VARIABLES } from './variables.ts';
import type { VariableKind, VariableSpec } from './variables.ts';
import { loadRoleDefaults, MODE_ROLES, resolveVars, ROLE_NAMES, undefinedRefsProblem } from './defaults.ts';
import { discoveredVariables, type PlayView, resolvedHostVars } from './discovery.ts';
import { serverCaPem } from './server-ca.ts';
import { PACKAGES } from '../facts/paths.ts';
import { MASK, SECRET_VARIABLES, secretFeeders, withoutSecretText } from './secrets.ts';
import type { AllRoleDefaults, ResolvedVars } from './defaults.ts';

export type { PrometheusMode } from './agent-config.ts';

type HostVars = Readonly<Record<string, unknown>>;
type Origins = Readonly<Record<string, string>>;

/** Where a setting error's value came from, as its messages say it: "from FILE:LINE", or "not
 *  set" when nothing set it ("from not set" read like a bug). */
export function settingSource(origin: string): string {
  return origin === 'not set' ? 'not set' : `from ${origin}`;
}

/** "sles16-01: agent_prometheus_auth (group_vars/all.yml): invalid auth method: x (...)" */
export function formatSettingError(error: SettingProblem, host?: string): string {
  const where = error.origin === 'not set' ? 'not set' : error.origin;
  return `${host ? `${host}: ` : ''}${error.variable} (${where}): ${error.message}`;
}

// ---------------------------------------------------------------------------------------
// Value checks, one per kind. Each returns the value as text for agent.yaml, or a problem.

type Checked = { ok: true; text: string } | { ok: false; problem: string };

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  // Numbers without their value: a secret variable's number is the secret.
  if (value instanceof PyFloat) return 'a float';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  return typeof value;
}

/**
 * Strings as they are; ints as their digits, every one of them (YAML reads `12345` as a
 * number, a long one is a bigint); nothing else. A float is refused: its text is already lost
 * (`1.10` is 1.1), so writing it would change the value silently.
 */
export function asText(value: unknown): Checked {
  // Half of a UTF-16 pair (a JSON inventory's "\ud800"): go-yaml refuses its escape in
  // agent.yaml, and Alloy's string would get U+FFFD, another value.
  if (typeof value === 'string' && LONE_SURROGATE.test(value))
    return { ok: false, problem: 'holds half of a UTF-16 surrogate pair (\\uD800-\\uDFFF alone): no valid text' };
  if (typeof value === 'string') return { ok: true, text: value };
  if ((typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint') return { ok: true, text: String(value) };
  const hint = typeof value === 'boolean' || isPyNumber(value) ? ' (quote the value where it is set: YAML and INI alike read it unquoted as this)' : '';
  return { ok: false, problem: `must be a string, got ${describe(value)}${hint}` };
}

/** Control characters (C0, DEL, C1) and invisible ones (zero-width, bidi marks, line separators, BOM). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/u;

/** A URL as an error quotes it: whatever comes before its last "@" (a user and password the
 *  run may not be able to pick out of a broken URL, such as one with an unencoded "#") hidden. */
const quotedUrl = (text: string) => `"${text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/su, (_m, scheme: string | undefined) => `${scheme ?? ''}${MASK}@`)}"`;

/**
 * A non-secret setting's wrong value as an error quotes it (the terminal, --json, --junit): a
 * value that is not what the setting takes may be a secret put in the wrong place, a key pasted
 * where its path goes or a RabbitMQ URL with its password where the host goes, which no secret
 * list masks. So a PEM block (also base64-encoded, as `base64 -w0 client.key` writes it), a value
 * of several lines, or one longer than any path or URL a setting takes, is described, not shown,
 * and whatever comes before an "@" is hidden as in URLs.
 */
function quotedValue(text: string): string {
  const pem = /-----BEGIN ([A-Z0-9 ]{1,40})-----/u.exec(text);
  if (pem) return `a PEM block ("-----BEGIN ${pem[1]}-----", ${text.length} characters, not shown: the key or certificate itself?)`;
  // "-----BEGIN" in base64, at any of the three offsets a longer text can put it at.
  if (/LS0tLS1CRUdJTi|0tLS0tQkVHSU4|tLS0tLUJFR0lO/u.test(text))
    return `a base64-encoded PEM block (${text.length} characters, not shown: the key or certificate itself?)`;
  if (/[\n\r]/u.test(text)) return `a value of ${text.split(/\r\n|\n|\r/u).length} lines (not shown)`;
  if (text.length > MAX_QUOTED_VALUE) return `a value of ${text.length} characters (not shown: a key or a file's content?)`;
  return quotedUrl(text);
}

/** The longest wrong value an error quotes: longer than any path or URL an admin types. */
const MAX_QUOTED_VALUE = 256;

/**
 * The URL is written as given, and the agent and Alloy read it with Go's url.Parse, which
 * forgives less than the WHATWG parser below: what it would refuse or read without a host is
 * refused here, before any host is touched.
 */
function urlProblem(text: string, schemes: readonly string[]): string | undefined {
  const opaque = /^([A-Za-z][A-Za-z0-9+.-]*):(?!\/\/)/u.exec(text);
  if (opaque && schemes.includes(opaque[1]!.toLowerCase())) {
    return `URL ${quotedUrl(text)} has no "//" after "${opaque[1]}:" (Go reads it as a URL without a host; write ${opaque[1]}://HOST/...)`;
  }
  if (text.includes('\\')) return `URL ${quotedUrl(text)} contains a backslash (write / between the parts of a path)`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f]/u.test(text)) return `URL ${quotedUrl(text)} contains a control character`;
  if (/%(?![0-9A-Fa-f]{2})/u.test(text)) return `URL ${quotedUrl(text)} has a "%" not followed by two hex digits (Go refuses it: write %25 for a literal %)`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${quotedUrl(text)} is not a valid URL (expected ${schemes.map((s) => `${s}://`).join(' or ')}...)`;
  }
  const scheme = url.protocol.replace(/:$/u, '');
  if (!schemes.includes(scheme)) return `URL scheme must be ${schemes.join(' or ')}, got "${scheme}" in ${quotedUrl(text)}`;
  if (url.hostname === '') return `URL ${quotedUrl(text)} has no host`;
  if (url.port === '0') return `URL ${quotedUrl(text)} has port 0`;
  if (/\s/u.test(text)) return `URL ${quotedUrl(text)} contains whitespace`;
  // Go takes the user:password part only from letters, digits and -._:~!$&'()*+,;=%@ (net/url's
  // validUserinfo); anything else (a quote, <, >, ^, {, |, }, a backtick, a non-ASCII letter), which
  // the WHATWG parser above encodes instead, makes the agent and Alloy refuse the URL.
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/u.exec(text)?.[1] ?? '';
  const userinfo = authority.slice(0, Math.max(authority.lastIndexOf('@'), 0));
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/u.test(userinfo)) {
    return `URL ${quotedUrl(text)} has a character in its user:password part that Go refuses (net/url: invalid userinfo): percent-encode it (a " is %22)`;
  }
  // Its host the same: Go takes letters, digits, -._~!$&'()*+,;=:[]<>" and %XX there (net/url's
  // shouldEscape for hosts), and non-ASCII; a {, } or backtick the WHATWG parser lets through
  // would make the agent and Alloy refuse the URL.
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\uffff]*$/u.test(host)) {
    return `URL ${quotedUrl(text)} has a character in its host that Go refuses (net/url: invalid character in host name)`;
  }
  return undefined;
}

export { ansibleBool } from '../inventory/truthiness.ts';
import { ambiguousBoolProblem, ansibleBool } from '../inventory/truthiness.ts';
import type { SettingProblem } from '../inventory/errors.ts';

const withText = (value: unknown, check: (text: string) => string | undefined): Checked => {
  const text = asText(value);
  if (!text.ok) return text;
  const problem = check(text.text);
  return problem === undefined ? text : { ok: false, problem };
};

/** A duration under the least the agent accepts for its key (VariableSpec.minimum). */
function belowMinimum(text: string, spec: VariableSpec): string | undefined {
  if (spec.minimum === undefined) return undefined;
  const [value, least] = [parseGoDuration(text), parseGoDuration(spec.minimum)];
  return value.ok && least.ok && value.nanoseconds < least.nanoseconds
    ? `${text} is less than ${spec.minimum}, ${spec.minimumReason ?? `the least trento-agent accepts for ${spec.agentKey ?? spec.name}: it would refuse its config and not start`}`
    : undefined;
}

/** A string that Ansible's boolean() reads as false but a bare Jinja `when:` as true (VariableSpec.jinjaTruthy). */
function falseStringProblem(value: unknown): string | undefined {
  const text = value instanceof UnsafeText ? value.text : value;
  if (typeof text !== 'string' || text === '' || ansibleBool(text) !== false) return undefined;
  return `is the string ${JSON.stringify(text)}, which the official playbook's \`when:\` reads as true (any non-empty string is): write false unquoted in YAML, False in an INI inventory, or -e '{"agent_install_monitoring_dep": false}'`;
}

const CHECKS: Readonly<Record<VariableKind, (value: unknown, spec: VariableSpec) => Checked>> = {
  text: (value) => asText(value),
  // Sent in HTTP headers (the API key, a bearer token): Go's net/http refuses control characters there.
  word: (value) =>
    withText(value, (t) =>
      /\s/u.test(t) ? 'must not contain spaces or line breaks' : INVISIBLE.test(t) ? 'must not contain control or invisible characters' : undefined,
    ),
  bool: (value, spec) => {
    const ambiguous = spec.boolFilter ? ambiguousBoolProblem(value) : spec.jinjaTruthy ? falseStringProblem(value) : undefined;
    if (ambiguous) return { ok: false, problem: ambiguous };
    const b = ansibleBool(value);
    return b === undefined
      ? { ok: false, problem: `must be a boolean (true/false, yes/no), got ${typeof value === 'string' ? JSON.stringify(value) : describe(value)}` }
      : { ok: true, text: String(b) };
  },
  duration: (value, spec) => {
    if (isPyNumber(value)) {
      return {
        ok: false,
        problem: `must be a Go duration with a unit such as "${value}s", got the bare number ${value} (the agent would read it as nanoseconds)`,
      };
    }
    return withText(value, (t) => positiveDurationProblem(t) ?? belowMinimum(t, spec));
  },
  'http-url': (value) => withText(value, (t) => urlProblem(t, ['http', 'https'])),
  host: (value) =>
    withText(value, (t) => {
      const m = HOST.exec(t);
      if (!m) return `${quotedValue(t)} is not a host name or address (host or host:port, no scheme or path)`;
      const port = m[1] === undefined ? undefined : Number(m[1]);
      return port !== undefined && (port < 1 || port > 65535) ? `port ${port} is out of range in "${t}"` : undefined;
    }),
  target: (value) => withText(value, (t) => (/\s/u.test(t) || t === '' ? `${quotedValue(t)} is not a host:port or URL` : undefined)),
  path: (value) =>
    withText(value, (t) =>
      !t.startsWith('/')
        ? `must be an absolute path on the host, got ${quotedValue(t)}`
        : /[\0\n\r]/u.test(t)
          ? 'must not contain NUL or line breaks'
          : undefined,
    ),
  enum: (value, spec) => {
    const values = spec.values ?? [];
    const text = asText(value);
    if (text.ok && values.includes(text.text)) return text;
    const shown = text.ok ? text.text : describe(value);
    return {
      ok: false,
      problem: spec.invalidMessage?.(shown) ?? `invalid value: ${shown} (valid values: ${values.join(', ')})`,
    };
  },
};

// ---------------------------------------------------------------------------------------
// Misspelt names.

/** Levenshtein distance (insert, delete, substitute): the library --help's suggestions use too. */
export const levenshtein = distance;

const SUPPORTED = VARIABLES.map((v) => v.name);
const KNOWN = new Set<string>([...SUPPORTED, ...OTHER_KNOWN_VARIABLES]);
/** The supported variables' prefixes, the official playbook's older names (rabbitmq_*, amqp_*) among them. */
const CHECKED_PREFIXES = ['agent_', 'trento_', 'supportutils_', 'rabbitmq_', 'amqp_'];

const words = (name: string) => name.split('_');
/** Of several candidates, the one that adds the fewest words, then the shortest. */
const closest = (names: string[]) => names.sort((a, b) => words(a).length - words(b).length || a.length - b.length || a.localeCompare(b))[0];

/**
 * The supported variable `name` looks like a slip of, if any, in this order: its last word cut
 * short (agent_rabbitmq_pass for ..._password: by letters alone "host" would be closer), every
 * word of it in one supported name with more (agent_server_url for agent_trento_server_url; three
 * words or more: two, such as the official playbook's trento_server, are too common), or a few
 * letters off (up to 2 edits, 1 in 6 characters for long names: close enough to be a typo, far
 * enough that a user's own agent_* variable is not flagged).
 */
export function suggestVariable(name: string): string | undefined {
  if (KNOWN.has(name) || !CHECKED_PREFIXES.some((p) => name.startsWith(p))) return undefined;
  // a word cut short, not a word missing: trento_server is not a cut trento_server_url
  const cut = SUPPORTED.filter((k) => k.startsWith(name) && k[name.length] !== '_');
  if (cut.length > 0) return closest(cut);
  const own = words(name);
  const within = own.length >= 3 ? SUPPORTED.filter((k) => own.every((w) => words(k).includes(w))) : [];
  if (within.length > 0) return closest(within);
  const limit = Math.max(2, Math.floor(name.length / 6));
  let best: { name: string; distance: number } | undefined;
  for (const known of SUPPORTED) {
    const distance = levenshtein(name, known);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: known, distance };
  }
  return best?.name;
}

// ---------------------------------------------------------------------------------------
// Requirements. Data, so the rules can be read (and tested) at a glance.

interface Requirement {
  variable: string;
  /** The agent's message when it has one. */
  message: string;
  hint: string;
}

/** Needed in every mode. */
const ALWAYS_REQUIRED: readonly Requirement[] = [
  {
    variable: 'agent_web_api_key',
    message: 'api-key is required, cannot start agent',
    hint: 'set agent_web_api_key (or trento_api_key) to the API key shown in Trento Web',
  },
  { variable: 'agent_trento_server_url', message: 'server-url is required', hint: 'set agent_trento_server_url, trento_server_url or trento_server_name' },
  {
    variable: 'agent_rabbitmq_password',
    message: 'the RabbitMQ password for facts-service-url is required',
    hint: "set agent_rabbitmq_password (or the official playbook's trento_rabbitmq_password)",
  },
];

const PUSH_REQUIRED: readonly Requirement[] = [
  {
    variable: 'agent_prometheus_remote_write_url',
    message: "prometheus-url is required when prometheus-mode is 'push'",
    hint: 'set agent_prometheus_remote_write_url or trento_server_name',
  },
];

/** What each push auth method needs, with the agent's own messages. */
const AUTH_REQUIRED: Readonly<Record<AuthMethod, readonly Requirement[]>> = {
  none: [],
  basic: [
    {
      variable: 'agent_prometheus_auth_username',
      message: 'username is required for basic authentication',
      hint: 'set trento_prometheus_auth_username (or agent_prometheus_auth_username)',
    },
    {
      variable: 'agent_prometheus_auth_password',
      message: 'password is required for basic authentication',
      hint: 'set trento_prometheus_auth_password (or agent_prometheus_auth_password)',
    },
  ],
  bearer: [
    {
      variable: 'agent_prometheus_auth_bearer_token',
      message: 'bearer token is required for bearer authentication',
      hint: 'set agent_prometheus_auth_bearer_token, or choose another agent_prometheus_auth',
    },
  ],
  mtls: [
    {
      variable: 'agent_prometheus_tls_client_cert',
      message: 'client certificate is required for mTLS authentication',
      hint: 'set agent_prometheus_tls_client_cert',
    },
    { variable: 'agent_prometheus_tls_client_key', message: 'client key is required for mTLS authentication', hint: 'set agent_prometheus_tls_client_key' },
  ],
};

/**
 * Required variables that are unset. The origin is the inventory file that set it empty, else
 * "not set" (as a missing API key's): the file whose setting made it required is said in
 * `because`, never as the origin, which would read as where the missing value came from.
 */
function missing(requirements: readonly Requirement[], resolved: ResolvedVars, because = ''): SettingProblem[] {
  return requirements
    .filter((r) => resolved.get(r.variable) === undefined)
    .map((r) => {
      // Set, but through a template naming variables this host lacks (a vault file not loaded,
      // a typo): that is the error, not "set it", which would point at the line that does.
      const undefinedRefs = undefinedRefsProblem(resolved, r.variable);
      if (undefinedRefs) return undefinedRefs;
      const setEmpty = resolved.sources(r.variable).includes(r.variable);
      return { variable: r.variable, origin: setEmpty ? resolved.origin(r.variable) : 'not set', message: `${r.message}: ${r.hint}${because}` };
    });
}

// ---------------------------------------------------------------------------------------

/**
 * facts-service-url as the official role builds it. The official template writes the username
 * and password as they are, so an inventory made for it encodes what a URL cannot hold itself
 * ("p%40ss" for "p@ss"): a value whose every "%" starts an escape is taken as written that way,
 * and only what it still holds that a URL cannot is encoded (the same agent.yaml as the official
 * role's wherever that one works). Any other value is encoded whole (a "%" of its own included),
 * where the official role would write a URL the agent cannot parse.
 */
export function factsServiceUrl(parts: { protocol: string; username: string; password: string; host: string; vhost: string }): string {
  // encodeURIComponent also encodes "/" (the official role adds `replace('/', '%2F')` for the vhost).
  return `${parts.protocol}://${urlCredential(parts.username)}:${urlCredential(parts.password)}@${parts.host}/${encodeURIComponent(parts.vhost)}`;
}

/** No setting is this long: a longer value is a pasted file or a broken template. */
export const MAX_VALUE_LENGTH = 8192;

function tooLong(value: unknown, max = MAX_VALUE_LENGTH): Checked | undefined {
  if (typeof value !== 'string' || value.length <= max) return undefined;
  return {
    ok: false,
    problem: `is ${value.length} characters long; ${max === MAX_VALUE_LENGTH ? 'no setting is' : 'it may be no'} longer than ${max} (a pasted file?)`,
  };
}

/** Type, enum, URL and duration checks of every set variable of the table. */
function checkValues(resolved: ResolvedVars, specs: readonly VariableSpec[]): { errors: SettingProblem[]; texts: Map<string, string> } {
  const errors: SettingProblem[] = [];
  const texts = new Map<string, string>();
  for (const spec of specs) {
    const value = resolved.get(spec.name);
    if (value === undefined) continue;
    const checked = tooLong(value, spec.maxLength) ?? CHECKS[spec.kind](value, spec);
    if (checked.ok) texts.set(spec.name, checked.text);
    else errors.push({ variable: spec.name, origin: resolved.origin(spec.name), message: checked.problem });
  }
  return { errors, texts };
}

function misspellings(vars: HostVars, origins: Origins): SettingProblem[] {
  return Object.keys(vars).flatMap((name) => {
    const suggestion = suggestVariable(name);
    return suggestion === undefined
      ? []
      : [{ variable: name, origin: origins[name] ?? 'inventory', message: `unknown variable ${name}: did you mean ${suggestion}?` }];
  });
}

/**
 * Checks shared by both steps: values, requirements, names, the composed facts URL.
 * `undefinedIn`: the resolution the undefined-reference check reads; before facts, one with every
 * role's defaults, since a template may name a default of the mode's role (alloy's scrape interval).
 */
function commonChecks(
  vars: HostVars,
  origins: Origins,
  resolved: ResolvedVars,
  undefinedIn: ResolvedVars = resolved,
): { errors: SettingProblem[]; texts: Map<string, string> } {
  const { errors, texts } = checkValues(resolved, VARIABLES);
  const facts = factsFrom(texts);
  const factsProblem = facts === undefined ? undefined : urlProblem(facts, ['amqp', 'amqps']);
  const secret = secretFeeders(SECRET_VARIABLES, resolved.sources);
  const all = [
    ...resolved.problems().map((p) => withoutSecretText(p, secret)),
    ...errors,
    ...missing(ALWAYS_REQUIRED, resolved),
    ...factsUrlPartsMissing(resolved),
    // The package names only where supportutils is installed (the official role's `when:`).
    ...undefinedWhereRead(undefinedIn, [
      ...READ_IN_EVERY_MODE,
      ...(ansibleBool(resolved.get('supportutils_enabled')) === false ? [] : SUPPORT_PACKAGE_VARIABLES.map(([variable]) => variable)),
    ]),
    ...(factsProblem
      ? [{ variable: 'agent_rabbitmq_host', origin: resolved.origin('agent_rabbitmq_host'), message: `facts-service-url: ${factsProblem}` }]
      : []),
    ...serverCaProblems(resolved, texts),
    ...supportPackageNameProblems(resolved, texts),
    ...repositoryProblems(resolved),
    ...misspellings(vars, origins),
  ];
  return { texts, errors: onePerProblem(all, resolved) };
}

/**
 * One error per problem: a bad trento_server_url also makes the agent_trento_server_url
 * built from it bad, and a Jinja error leaves its variable unset; only the first is reported.
 */
function onePerProblem(errors: readonly SettingProblem[], resolved: ResolvedVars): SettingProblem[] {
  const firstByVariable = new Map<string, SettingProblem>();
  for (const error of errors) if (!firstByVariable.has(error.variable)) firstByVariable.set(error.variable, error);
  return [...firstByVariable.values()].filter(
    (error) => !resolved.sources(error.variable).some((source) => source !== error.variable && firstByVariable.has(source)),
  );
}

function serverCaProblems(resolved: ResolvedVars, texts: ReadonlyMap<string, string>): SettingProblem[] {
  const value = texts.get('agent_server_ca_cert');
  if (value === undefined) return [];
  const checked = serverCaPem(value, resolved.get('agent_server_ca_cert_as_base64'));
  return checked.ok ? [] : [{ variable: 'agent_server_ca_cert', origin: resolved.origin('agent_server_ca_cert'), message: checked.problem }];
}

/**
 * The official role lets the support packages be renamed; the toolkit asks rpm about, installs,
 * records and removes them by their real names (src/facts/paths.ts), so another name cannot be
 * honoured and is an error rather than a silently ignored setting.
 */
const SUPPORT_PACKAGE_VARIABLES = [
  ['supportutils_package_name', PACKAGES.supportutils],
  ['supportutils_plugin_package_name', PACKAGES.supportutilsPlugin],
] as const;

function supportPackageNameProblems(resolved: ResolvedVars, texts: ReadonlyMap<string, string>): SettingProblem[] {
  return SUPPORT_PACKAGE_VARIABLES.flatMap(([variable, name]) => {
    const value = texts.get(variable);
    return value === undefined || value === name
      ? []
      : [
          {
            variable,
            origin: resolved.origin(variable),
            message: `"${value}" is not supported: trento-provision installs, records and removes the package ${name} by that name; remove ${variable}, or set supportutils_enabled: false and install your own package`,
          },
        ];
  });
}

/**
 * agent_trento_repository: releases of the official playbook before December 2025 added it as a
 * zypper repository to install trento-agent from. The toolkit adds no repository, and ignoring it
 * would install another trento-agent (or none): an error naming it.
 */
function repositoryProblems(resolved: ResolvedVars): SettingProblem[] {
  const variable = 'agent_trento_repository';
  return resolved.get(variable) === undefined
    ? []
    : [
        {
          variable,
          origin: resolved.origin(variable),
          message:
            'is not supported: trento-provision adds no zypper repository (older releases of the official playbook did); add it to the hosts (zypper addrepo, SUSE Manager) and remove the variable',
        },
      ];
}

/** Push mode without an auth method: the released agent would fall back to basic auth. */
function emptyAuthProblem(resolved: ResolvedVars): SettingProblem {
  return {
    variable: 'agent_prometheus_auth',
    origin: resolved.origin('agent_prometheus_auth'),
    message:
      'is empty, and in push mode the agent then falls back to basic auth, which needs a username and a password: ' +
      'set trento_prometheus_auth (or agent_prometheus_auth) to none, basic, bearer or mtls, with its credentials ' +
      '(basic: trento_prometheus_auth_username and trento_prometheus_auth_password)',
  };
}

/** The variables facts-service-url (how the agent reaches RabbitMQ) is built from, in its order. */
const FACTS_URL_PARTS = ['agent_amqp_protocol', 'agent_rabbitmq_username', 'agent_rabbitmq_password', 'agent_rabbitmq_host', 'agent_rabbitmq_vhost'] as const;

/** Settings read in every mode: the agent.yaml keys of both modes, and what the roles read. */
const READ_IN_EVERY_MODE: readonly string[] = [
  ...VARIABLES.filter((v) => v.agentKey !== undefined && v.auth === undefined && PROMETHEUS_MODES.every((m) => v.modes?.includes(m))).map((v) => v.name),
  'agent_prometheus_mode',
  ...FACTS_URL_PARTS,
  'agent_server_ca_cert',
  'agent_server_ca_cert_as_base64',
  'agent_package_state',
  'agent_install_monitoring_dep',
  'supportutils_enabled',
  'supportutils_update_cache',
];

/** A setting the run reads that is undefined because a template of the inventory's names
 *  variables nobody set: an error naming them (Ansible fails the play where it renders it). A
 *  template Ansible never renders for this host (another mode's key, a deprecated name's
 *  shadowed fallback) is left alone, as Ansible leaves it. */
function undefinedWhereRead(resolved: ResolvedVars, names: readonly string[]): SettingProblem[] {
  return names.flatMap((name) => {
    const problem = resolved.get(name) === undefined ? undefinedRefsProblem(resolved, name) : undefined;
    return problem ? [problem] : [];
  });
}

/** facts-service-url is always written (the official role always writes it): a part that is
 *  empty, undefined or unset is an error naming it, never an agent.yaml without the key. (A part
 *  with a bad value, or whose discovery failed, has its own error first: one per variable.) */
function factsUrlPartsMissing(resolved: ResolvedVars): SettingProblem[] {
  // A problem met resolving them (discovery that failed, a Jinja error) is the error to show.
  if (resolved.problems().length > 0) return [];
  return FACTS_URL_PARTS.filter((name) => resolved.get(name) === undefined).map(
    (name) =>
      undefinedRefsProblem(resolved, name) ?? {
        variable: name,
        origin: resolved.origin(name),
        message: `is ${resolved.defined(name) ? 'empty' : 'not set'}, and facts-service-url (how the agent reaches RabbitMQ) is built from it: set it`,
      },
  );
}

function factsFrom(texts: ReadonlyMap<string, string>): string | undefined {
  const [protocol, username, password, host, vhost] = FACTS_URL_PARTS.map((name) => texts.get(name));
  if (protocol === undefined || username === undefined || password === undefined || host === undefined || vhost === undefined) {
    return undefined;
  }
  return factsServiceUrl({ protocol, username, password, host, vhost });
}

/**
 * Static checks, before any connection: types, enums, URLs, durations, required values and
 * misspelt variable names. Mode-dependent rules wait for agentConfigFor.
 */
export function validateHostVars(vars: HostVars, origins: Origins, defaults: AllRoleDefaults = loadRoleDefaults(), play?: PlayView): SettingProblem[] {
  const resolved = resolvedHostVars(vars, origins, defaults, play);
  const everyRole = resolveVars(vars, origins, ROLE_NAMES, defaults, discoveredVariables(play));
  return commonChecks(vars, origins, resolved, everyRole).errors;
}

/**
 * After facts, before any change: the agent.yaml keys for this host in `mode` (the mode the
 * toolkit deploys there: the platform's; agent_prometheus_mode is only checked against it).
 * Errors are returned with whatever config could be built; write nothing when there are any.
 */
export function agentConfigFor(
  vars: HostVars,
  origins: Origins,
  mode: PrometheusMode,
  defaults: AllRoleDefaults = loadRoleDefaults(),
  play?: PlayView,
): { config: AgentConfig; errors: SettingProblem[] } {
  const resolved = resolveVars(vars, origins, MODE_ROLES[mode], defaults, discoveredVariables(play));
  const { errors, texts } = commonChecks(vars, origins, resolved);

  const asked = resolved.get('agent_prometheus_mode');
  if (asked !== undefined && asked !== mode && typeof asked === 'string' && PROMETHEUS_MODES.includes(asked as PrometheusMode)) {
    errors.push({
      variable: 'agent_prometheus_mode',
      origin: resolved.origin('agent_prometheus_mode'),
      message: `asks for ${asked} mode, but this host is provisioned in ${mode} mode (${mode === 'pull' ? 'node_exporter' : 'Alloy'}); remove it or set it only for hosts that support ${asked}`,
    });
  }

  // Push mode without a method but with a username and a password: the official role writes no
  // method then, and the agent takes basic (its default) with them; the same here (agent.yaml
  // without the key, its credentials written).
  const basicByDefault =
    mode === 'push' &&
    resolved.get('agent_prometheus_auth') === undefined &&
    Boolean(texts.get('agent_prometheus_auth_username')) &&
    Boolean(texts.get('agent_prometheus_auth_password'));
  const auth = basicByDefault ? 'basic' : AUTH_METHODS.find((method) => method === texts.get('agent_prometheus_auth'));
  if (mode === 'push') {
    errors.push(...missing(PUSH_REQUIRED, resolved));
    if (resolved.get('agent_prometheus_auth') === undefined && !basicByDefault) errors.push(emptyAuthProblem(resolved));
    if (auth !== undefined) {
      const origin = resolved.origin('agent_prometheus_auth');
      errors.push(...missing(AUTH_REQUIRED[auth], resolved, ` (agent_prometheus_auth is "${auth}" in ${origin})`));
    }
  }

  const config: AgentConfig = { 'prometheus-mode': mode };
  const facts = factsFrom(texts);
  if (facts !== undefined) config['facts-service-url'] = facts;
  const written = VARIABLES.filter(
    (spec) => spec.agentKey !== undefined && spec.modes?.includes(mode) && (!spec.auth || (auth !== undefined && spec.auth.includes(auth))),
  );
  errors.push(
    ...undefinedWhereRead(
      resolved,
      written.map((spec) => spec.name),
    ),
  );
  for (const spec of written) {
    const text = texts.get(spec.name);
    if (text !== undefined) (config as unknown as Record<string, string>)[spec.agentKey!] = text;
  }
  return { config, errors: onePerProblem(errors, resolved) };
}
