// The command line: ansible-playbook's flag names and meanings where they overlap.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { inventoryPathList } from '../util/unfrack-path.ts';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';
import { type AnsibleSettings, readAnsibleSettings } from './ansible-config.ts';
import { HOST_PATTERN_MISMATCH, type HostPatternMismatch } from '../inventory/patterns.ts';
import type { VaultSources } from './vault-secrets.ts';
import type { PasswordFile } from './password-files.ts';
import {
  type Configured,
  DEFAULT_MAX_HOST_OUTPUT_MIB,
  DEFAULT_SCRIPT_TIMEOUT_SECONDS,
  DEFAULT_SSH_ARGS,
  MAX_TIMER_SECONDS,
  type ParamikoDefaults,
} from '../exec/connection.ts';
import { parseMaxFailPercentage, parseSerial, type SerialItem, WaveSpecError } from '../rollout/waves.ts';
import { AUTH_METHODS, type AuthMethod } from '../settings/agent-config.ts';
import { FACTS_BASE_WAIT_SECONDS, MAX_ZYPP_LOCK_TIMEOUT_SECONDS } from '../facts/limits.ts';

export interface CliOptions {
  inventories: string[];
  limit?: string;
  /** --playbook-dir: its group_vars/ and host_vars/ read too, above the inventory's (src/cli/playbook-dir.ts). */
  playbookDir?: string;
  check: boolean;
  diff: boolean;
  /** Lines of context around a diff's changes ([diff] context; 3). */
  diffContext: number;
  /** ansible.cfg's log_path / ANSIBLE_LOG_PATH: the run's output appended there too. */
  logPath?: string;
  /** [inventory] host_pattern_mismatch: what a --limit pattern that matches nothing is. */
  hostPatternMismatch: HostPatternMismatch;
  forks: number;
  /** --serial: waves (Ansible's play keyword serial). */
  serial?: SerialItem[];
  /** --max-fail-percentage: later waves do not start past it (Ansible's max_fail_percentage). */
  maxFailPercentage?: number;
  extraVars: string[];
  uninstall: boolean;
  purge: boolean;
  verbosity: number;
  json?: string;
  /** --junit FILE: one JUnit test case per host, for CI (see src/output/junit-report.ts). */
  junit?: string;
  /** --detailed-exitcode (with --check): exit 2 when a host would change. */
  detailedExitcode: boolean;
  timeoutSeconds: number;
  zyppLockTimeoutSeconds: number;
  /** --remote-timeout: longest a script may run on a host (0: no limit). */
  remoteTimeoutSeconds: number;
  /** --max-host-output: most a host may send for one script, in MiB. */
  maxHostOutputMiB: number;
  user?: string;
  /** [defaults] remote_port / ANSIBLE_REMOTE_PORT (Ansible has no flag for it); ansible_port wins. */
  port?: number;
  privateKey?: string;
  /** Where privateKey came from: --private-key, or the ansible.cfg / ANSIBLE_* setting. */
  privateKeyOrigin?: string;
  /** The ssh plugin's: false only when the user opted out (ANSIBLE_HOST_KEY_CHECKING=False,
   *  host_key_checking = False). The paramiko plugin's is in ssh.paramiko. */
  hostKeyChecking: boolean;
  /** Defaults for hosts whose inventory sets no ansible_become / _user / _method. */
  /** exe, flags: [privilege_escalation] become_exe, become_flags / ANSIBLE_BECOME_EXE, _FLAGS
   *  (Ansible has no command-line flag for them), flagsOrigin where the flags came from. */
  become: {
    enabled: boolean;
    user?: string;
    method?: string;
    methodOrigin?: string;
    exe?: string;
    exeOrigin?: string;
    flags?: string;
    flagsOrigin?: string;
    askPass: boolean;
    /** --become-password-file, else become_password_file / ANSIBLE_BECOME_PASSWORD_FILE: read
     *  where -K would ask (askPass wins, as in Ansible). */
    passwordFile?: PasswordFile;
    /** [privilege_escalation] become_allow_same_user: sudo even where the login user is the one to become. */
    allowSameUser: boolean;
  };
  vault: VaultSources;
  /** How hosts are reached: the SSH flags and their ansible.cfg / ANSIBLE_* settings. */
  ssh: SshCliOptions;
  /** The ansible.cfg read, if any, and what Ansible would warn about it. */
  configFile?: string;
  warnings: string[];
  help: boolean;
  // --- informational modes (ansible-playbook's): nothing is changed, no host is contacted ---
  /** -V/--version: print the version and the config file, exit 0. */
  version: boolean;
  /** --list-hosts: the hosts the run would handle and what it would do to each. */
  listHosts: boolean;
  /** --syntax-check: inventory and settings validation only; exit 0 or 1. */
  syntaxCheck: boolean;
  /** --verify-prometheus and its companions (file paths resolved; no secret is ever a flag). */
  verify?: VerifyCliOptions;
}

export interface VerifyCliOptions {
  url: string;
  auth?: AuthMethod;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  waitSeconds?: number;
}

/** -c, -k, --ssh-common-args, --ssh-extra-args and [ssh_connection]: flag > ANSIBLE_* > ansible.cfg. */
export interface SshCliOptions {
  transport?: string;
  transportOrigin?: string;
  askPass: boolean;
  /** --connection-password-file, else connection_password_file / ANSIBLE_CONNECTION_PASSWORD_FILE:
   *  read where -k would ask (askPass wins, as in Ansible). */
  passwordFile?: PasswordFile;
  executable?: string;
  args?: string;
  commonArgs?: string;
  extraArgs?: string;
  controlPathDir?: string;
  /** [ssh_connection] retries / ANSIBLE_SSH_RETRIES (no flag in Ansible); ansible_ssh_retries wins. */
  retries?: number;
  /** [ssh_connection] sshpass_prompt / ANSIBLE_SSHPASS_PROMPT; ansible_sshpass_prompt wins. */
  sshpassPrompt?: string;
  /** [ssh_connection] pkcs11_provider / ANSIBLE_PKCS11_PROVIDER and where it was set; ansible_ssh_pkcs11_provider wins. */
  pkcs11Provider?: string;
  pkcs11ProviderOrigin?: string;
  /** [paramiko_connection] / ANSIBLE_PARAMIKO_* (proxy_command too) and the paramiko plugin's host_key_checking. */
  paramiko: ParamikoDefaults;
  /** [ssh_connection] control_path / ANSIBLE_SSH_CONTROL_PATH and where it was set; ansible_control_path wins. */
  controlPath?: string;
  controlPathOrigin?: string;
}

/** A usage error. `help`: whether --help shows what to do instead (a flag and its value), not for
 *  an error about a file the flags name (an inventory or a report path that is wrong). */
export class CliError extends Error {
  readonly help: boolean;
  constructor(message: string, options: { help?: boolean } = {}) {
    super(message);
    this.help = options.help ?? true;
  }
}

export const DEFAULT_FORKS = 50;
/** Ansible's default connect timeout (seconds). */
const DEFAULT_TIMEOUT_SECONDS = 10;
/** How long zypper waits for another package manager's lock by default (seconds). */
const DEFAULT_ZYPP_LOCK_TIMEOUT_SECONDS = 60;

/** Flags whose value is itself ssh options ("-o X=Y"): node's parser would take it for a flag. */
const SSH_ARG_FLAGS = new Set(['--ssh-common-args', '--ssh-extra-args']);

/**
 * -vvv -> -v -v -v, so node's parser can count them; `--ssh-common-args '-o X'` ->
 * `--ssh-common-args=-o X` (ansible-playbook's argparse takes such a value as it is).
 */
function expandVerbosity(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^-v{2,}$/.test(a))
      out.push(
        ...a
          .slice(1)
          .split('')
          .map(() => '-v'),
      );
    else if (SSH_ARG_FLAGS.has(a) && i + 1 < argv.length) out.push(`${a}=${argv[++i]}`);
    else out.push(a);
  }
  return out;
}

function positiveInt(name: string, text: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${name} needs a whole number above 0, not "${text}"`);
  // (only the time flags have a maximum below JavaScript's largest safe integer)
  const days = max < Number.MAX_SAFE_INTEGER ? ` (seconds, ~${Math.round(max / 86_400)} days)` : '';
  if (n > max) throw new CliError(`${name} is at most ${max}${days}, not "${text}"`);
  return n;
}

/** [inventory] host_pattern_mismatch, one of Ansible's choices (it refuses any other word too). */
export function hostPatternMismatchOf(cfg: AnsibleSettings): HostPatternMismatch {
  // (case-sensitive, as ansible-core checks its choices)
  const value = cfg.hostPatternMismatch?.trim();
  if (value === undefined) return 'warning';
  const known = HOST_PATTERN_MISMATCH.find((m) => m === value);
  if (!known)
    throw new CliError(
      `host_pattern_mismatch (${cfg.origins.hostPatternMismatch}) is one of ${HOST_PATTERN_MISMATCH.join(', ')}, not "${cfg.hostPatternMismatch}"`,
    );
  return known;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new CliError(`${name} needs a whole number, 0 or more, not "${value}"`);
  return value;
}

function portNumber(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new CliError(`${name} needs a port number 1-65535, not "${value}"`);
  return value;
}

/**
 * An inventory argument: a path (from the admin's folder `cwd`), a host list "a,b,", or the
 * name of a folder under the package's inventories/.
 */
export function resolveInventory(arg: string, projectDir: string, cwd: string = process.cwd(), source = `-i ${arg}`): string {
  // ~/ as Ansible expands it (a shell does for -i, not for ANSIBLE_INVENTORY or a quoted value).
  const path = arg === '~' || arg.startsWith('~/') ? join(homedir(), arg.slice(1)) : resolve(cwd, arg);
  if (existsSync(path)) return path;
  if (arg.includes(',')) return arg;
  // A path (a folder in it, an extension): the package's inventories/ has nothing to do with it.
  if (arg.includes('/') || arg.startsWith('~') || /\.(ya?ml|ini|cfg|json|toml|txt)$/i.test(arg)) {
    const folder = dirname(path);
    const siblings = existsSync(folder) ? readdirSync(folder) : [];
    const near = siblings.length ? closest(basename(path), siblings) : undefined;
    const hint = near !== undefined && distance(near, basename(path)) <= 2 ? `: did you mean ${join(dirname(arg), near)}?` : '';
    throw new CliError(`inventory ${path} does not exist (${source}${isAbsolute(arg) || arg.startsWith('~') ? '' : `, from ${cwd}`})${hint}`, { help: false });
  }
  const named = resolve(projectDir, 'inventories', arg);
  if (existsSync(named)) return named;
  const dir = resolve(projectDir, 'inventories');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => statSync(resolve(dir, n)).isDirectory()) : [];
  const hint = arg === 'lab' ? ' Start the lab first: npm run lab -- up.' : '';
  throw new CliError(`inventory "${arg}" is neither a path nor a folder under inventories/ (there: ${names.join(', ') || 'none'}).${hint}`, { help: false });
}

/** The folder --playbook-dir names, absolute; one that is not a folder is an error naming it. */
function playbookDirOf(value: string, cwd: string): string {
  const dir = resolve(cwd, value);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`--playbook-dir ${value}: ${dir} is not a folder`, { help: false });
  return dir;
}

/** Every flag, once: the parser, the "did you mean" hint and `completion bash` read this table. */
export const OPTIONS = {
  inventory: { type: 'string', short: 'i', multiple: true },
  limit: { type: 'string', short: 'l' },
  'playbook-dir': { type: 'string' },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  forks: { type: 'string', short: 'f' },
  serial: { type: 'string' },
  'max-fail-percentage': { type: 'string' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  uninstall: { type: 'boolean' },
  purge: { type: 'boolean' },
  upgrade: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  json: { type: 'string' },
  junit: { type: 'string' },
  'detailed-exitcode': { type: 'boolean' },
  timeout: { type: 'string', short: 'T' },
  'zypper-lock-timeout': { type: 'string' },
  'remote-timeout': { type: 'string' },
  'max-host-output': { type: 'string' },
  user: { type: 'string', short: 'u' },
  'private-key': { type: 'string' },
  'key-file': { type: 'string' },
  become: { type: 'boolean', short: 'b' },
  'become-user': { type: 'string' },
  'become-method': { type: 'string' },
  'ask-become-pass': { type: 'boolean', short: 'K' },
  'become-password-file': { type: 'string' },
  'become-pass-file': { type: 'string' },
  'vault-id': { type: 'string', multiple: true },
  'vault-password-file': { type: 'string', multiple: true },
  'vault-pass-file': { type: 'string', multiple: true },
  'ask-vault-pass': { type: 'boolean', short: 'J' },
  'ask-vault-password': { type: 'boolean' },
  // How hosts are reached (ansible-playbook's connection options).
  connection: { type: 'string', short: 'c' },
  'ask-pass': { type: 'boolean', short: 'k' },
  'connection-password-file': { type: 'string' },
  'conn-pass-file': { type: 'string' },
  'ssh-common-args': { type: 'string' },
  'ssh-extra-args': { type: 'string' },
  // Proof from Trento's side after the rollout.
  'verify-prometheus': { type: 'string' },
  'verify-auth': { type: 'string' },
  'verify-ca': { type: 'string' },
  'verify-client-cert': { type: 'string' },
  'verify-client-key': { type: 'string' },
  'verify-wait': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  // --- informational modes ---
  version: { type: 'boolean', short: 'V' },
  'list-hosts': { type: 'boolean' },
  'syntax-check': { type: 'boolean' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Every spelling of every flag: --long and -s. */
export function flagNames(): string[] {
  return Object.entries(OPTIONS).flatMap(([long, o]) => [`--${long}`, ...('short' in o ? [`-${o.short}`] : [])]);
}

/** node's parse errors, with the closest known flag named for an unknown one. */
function parseError(error: unknown): CliError {
  const message = (error as Error).message;
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown === undefined) return new CliError(message);
  const name = unknown.split('=')[0]!;
  const candidates = flagNames().filter((f) => f.startsWith('--') === name.startsWith('--'));
  // One letter is one edit from every other: the same letter in the other case is the likely slip.
  const sameLetter = candidates.find((f) => f.toLowerCase() === name.toLowerCase());
  return new CliError(`unknown option ${name}; did you mean ${sameLetter ?? closest(name, candidates.length ? candidates : flagNames())}?`);
}

/** The --verify-* flags, checked: an option the run cannot honour is an error naming it. */
/**
 * A password file from its flag (either of Ansible's two names) or from its setting; a flag given
 * with the prompt it stands in for (-k, -K) is refused, as ansible-playbook's argument groups do.
 */
function passwordFileOption(
  v: Record<string, string | boolean | (string | boolean)[] | undefined>,
  [long, short]: [string, string],
  [ask, askShort]: [string, string],
  cfg: AnsibleSettings,
  key: 'connectionPasswordFile' | 'becomePasswordFile',
): PasswordFile | undefined {
  const flag = (v[long] ?? v[short]) as string | undefined;
  if (flag !== undefined) {
    const name = v[long] !== undefined ? long : short;
    if (v[ask]) throw new CliError(`--${name} does not go with ${askShort}/--${ask}: give the password one way`);
    if (flag === '') throw new CliError(`--${name} needs a FILE (it was given an empty one)`);
    return { path: flag, origin: `--${name}`, fromCommandLine: true };
  }
  const path = cfg[key];
  return path === undefined ? undefined : { path, origin: cfg.origins[key] ?? key, fromCommandLine: false };
}

function verifyOptions(v: Record<string, string | boolean | (string | boolean)[] | undefined>, cwd: string): VerifyCliOptions | undefined {
  const flag = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const url = flag('verify-prometheus');
  const companions = ['verify-auth', 'verify-ca', 'verify-client-cert', 'verify-client-key', 'verify-wait'].filter((n) => flag(n) !== undefined);
  if (url === undefined) {
    if (companions.length) throw new CliError(`--${companions[0]} goes with --verify-prometheus URL`);
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--verify-prometheus needs the URL of Trento's Prometheus (e.g. https://trento.example.com/prometheus), not "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`--verify-prometheus needs an http:// or https:// URL, not ${parsed.protocol}`);
  if (parsed.username || parsed.password) {
    // A password in argv is readable by every user of the machine (ps).
    throw new CliError(
      '--verify-prometheus: no credentials in the URL (every user of this machine could read them in the process list); they come from agent_prometheus_auth_username/_password or agent_prometheus_auth_bearer_token in the inventory or a vault',
    );
  }
  // (href, not search/hash: a bare ? or # leaves those empty, and would end up inside the API's URL)
  if (/[?#]/.test(parsed.href)) throw new CliError('--verify-prometheus takes the base URL of Prometheus (its /api/v1/query is asked), without ? or #');
  if (v.check) throw new CliError('--verify-prometheus does not go with --check: it proves a rollout, and --check rolls nothing out');
  if (v.uninstall) throw new CliError('--verify-prometheus does not go with --uninstall: the metrics are meant to stop');
  const auth = flag('verify-auth');
  if (auth !== undefined && !AUTH_METHODS.includes(auth as AuthMethod)) throw new CliError(`--verify-auth takes ${AUTH_METHODS.join(', ')}, not "${auth}"`);
  const cert = flag('verify-client-cert');
  const key = flag('verify-client-key');
  if ((cert === undefined) !== (key === undefined)) throw new CliError('--verify-client-cert and --verify-client-key go together');
  if (cert !== undefined && auth !== undefined && auth !== 'mtls') throw new CliError(`--verify-client-cert is for --verify-auth mtls, not ${auth}`);
  if (flag('verify-ca') !== undefined && parsed.protocol !== 'https:') throw new CliError('--verify-ca is for an https:// --verify-prometheus URL');
  const file = (name: string) => (flag(name) !== undefined ? resolve(cwd, flag(name)!) : undefined);
  const wait = flag('verify-wait');
  return {
    url: parsed.href.replace(/\/+$/u, ''),
    ...(auth !== undefined ? { auth: auth as AuthMethod } : {}),
    ...(file('verify-ca') ? { caFile: file('verify-ca')! } : {}),
    ...(cert !== undefined ? { clientCertFile: file('verify-client-cert')!, clientKeyFile: file('verify-client-key')! } : {}),
    ...(wait !== undefined ? { waitSeconds: positiveInt('--verify-wait', wait, 0, MAX_TIMER_SECONDS) } : {}),
  };
}

export interface ParseOptions {
  /** The admin's folder: ./ansible.cfg, relative -i, --private-key, --json, --junit (default: process.cwd()). */
  cwd?: string;
  /** Settings from ansible.cfg + ANSIBLE_* (default: read them as Ansible finds them). */
  settings?: AnsibleSettings;
}

/** The paramiko plugin's settings as ansible.cfg / ANSIBLE_* gave them, each with its origin. */
function paramikoDefaults(cfg: AnsibleSettings): ParamikoDefaults {
  const configured = <K extends 'paramikoHostKeyAutoAdd' | 'paramikoUseRsaSha2Algorithms' | 'paramikoBannerTimeout' | 'paramikoProxyCommand'>(
    key: K,
  ): Configured<NonNullable<AnsibleSettings[K]>> | undefined =>
    cfg[key] === undefined ? undefined : { value: cfg[key] as NonNullable<AnsibleSettings[K]>, origin: cfg.origins[key]! };
  const hostKeyAutoAdd = configured('paramikoHostKeyAutoAdd');
  const useRsaSha2Algorithms = configured('paramikoUseRsaSha2Algorithms');
  const bannerTimeout = configured('paramikoBannerTimeout');
  // An empty proxy_command is none, as in Ansible.
  const proxyCommand = cfg.paramikoProxyCommand ? configured('paramikoProxyCommand') : undefined;
  return {
    hostKeyChecking: cfg.paramikoHostKeyChecking ?? true,
    ...(cfg.paramikoLookForKeys !== undefined ? { lookForKeys: cfg.paramikoLookForKeys } : {}),
    ...(hostKeyAutoAdd ? { hostKeyAutoAdd } : {}),
    ...(useRsaSha2Algorithms ? { useRsaSha2Algorithms } : {}),
    ...(bannerTimeout ? { bannerTimeout } : {}),
    ...(proxyCommand ? { proxyCommand } : {}),
  };
}

/**
 * Flags over ansible.cfg / ANSIBLE_* (environment over file) over defaults, like Ansible. The
 * inventory's own connection variables (ansible_user...) beat all of these later, per host.
 */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv, projectDir: string, options: ParseOptions = {}): CliOptions {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: false; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({
      args: expandVerbosity(argv),
      allowPositionals: false,
      options: OPTIONS,
    });
  } catch (error) {
    throw parseError(error);
  }
  const v = parsed.values;
  if (v.help) return { help: true } as CliOptions;
  const cwd = options.cwd ?? process.cwd();
  let cfg: AnsibleSettings;
  try {
    cfg = options.settings ?? readAnsibleSettings({ env, cwd });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  // --version needs no inventory (it names the config file, like ansible-playbook --version).
  if (v.version) return { help: false, version: true, warnings: cfg.warnings, ...(cfg.file ? { configFile: cfg.file } : {}) } as CliOptions;
  // ANSIBLE_INVENTORY as Ansible reads it (a name under inventories/ works too); ansible.cfg's
  // paths are already resolved against the file's folder.
  const inventoryArgs =
    v.inventory ??
    (cfg.origins.inventory?.startsWith('env:') ? inventoryPathList(env.ANSIBLE_INVENTORY ?? '', env, env.HOME ?? homedir()) : (cfg.inventory ?? []));
  if (inventoryArgs.length === 0) {
    throw new CliError(
      'no inventory: give --inventory PATH (-i), e.g. -i ./hosts, or a folder name under inventories/ (or ANSIBLE_INVENTORY, or inventory = in ansible.cfg)',
    );
  }
  if (v.upgrade && v.uninstall) throw new CliError('--upgrade does not go with --uninstall');
  // Without --check, exit 2 already means "a host failed": "changes were made" cannot have it too,
  // and a pipeline reading 2 as "applied fine" would pass over a failed host.
  if (v['detailed-exitcode'] && !v.check) {
    throw new CliError(
      '--detailed-exitcode goes with --check (exit 2: changes would be made); a real run already exits 2 for a failed host: read --json or --junit for what it changed',
    );
  }
  // An empty FILE (an unset variable in a CI job: --junit "$JUNIT_FILE") would write no report
  // without a word; one FILE for both would keep only the second report.
  for (const flag of ['json', 'junit'] as const) {
    if (v[flag] === '') throw new CliError(`--${flag} needs a FILE (it was given an empty one)`);
  }
  if (v.json !== undefined && v.junit !== undefined && resolve(cwd, v.json) === resolve(cwd, v.junit)) {
    throw new CliError(`--json and --junit name the same file (${v.json}): the second report would replace the first`);
  }
  // Neither writes a report: a --json / --junit file would silently not appear.
  for (const flag of ['json', 'junit', 'detailed-exitcode'] as const) {
    const informational = v['list-hosts'] ? '--list-hosts' : v['syntax-check'] ? '--syntax-check' : undefined;
    if (v[flag] !== undefined && informational) throw new CliError(`--${flag} reports on a run; ${informational} contacts no host`);
  }
  const fromCfg = (name: string, key: keyof AnsibleSettings['origins'], value: number | undefined, fallback: number, max?: number): number =>
    value === undefined ? fallback : positiveInt(`${name} (${cfg.origins[key]})`, String(value), fallback, max);
  /** -T, else the plugin's own timeout setting (the ssh plugin's also reads [ssh_connection]). */
  const connectTimeout = (key: 'timeout' | 'paramikoTimeout'): number =>
    v.timeout !== undefined
      ? positiveInt('--timeout', v.timeout, DEFAULT_TIMEOUT_SECONDS, MAX_TIMER_SECONDS)
      : fromCfg('timeout', key, cfg[key], DEFAULT_TIMEOUT_SECONDS, MAX_TIMER_SECONDS);
  const user = v.user ?? cfg.remoteUser;
  // From the flag: relative to the admin's folder (ansible.cfg's are already relative to the file's).
  const keyFlag = v['private-key'] ?? v['key-file'];
  const privateKey = keyFlag !== undefined && !keyFlag.startsWith('~') ? resolve(cwd, keyFlag) : (keyFlag ?? cfg.privateKeyFile);
  const becomeMethod = v['become-method'] ?? cfg.becomeMethod;
  const connectionPasswordFile = passwordFileOption(v, ['connection-password-file', 'conn-pass-file'], ['ask-pass', '-k'], cfg, 'connectionPasswordFile');
  const becomePasswordFile = passwordFileOption(v, ['become-password-file', 'become-pass-file'], ['ask-become-pass', '-K'], cfg, 'becomePasswordFile');
  let waves: Pick<CliOptions, 'serial' | 'maxFailPercentage'>;
  try {
    waves = {
      ...(v.serial !== undefined ? { serial: parseSerial(v.serial) } : {}),
      ...(v['max-fail-percentage'] !== undefined ? { maxFailPercentage: parseMaxFailPercentage(v['max-fail-percentage']) } : {}),
    };
  } catch (error) {
    throw error instanceof WaveSpecError ? new CliError(error.message) : error;
  }
  const verify = verifyOptions(v, cwd);
  return {
    inventories: inventoryArgs.map((a) =>
      resolveInventory(a, projectDir, cwd, v.inventory ? `-i ${a}` : (cfg.origins.inventory?.replace(/^env: /, '') ?? 'ansible.cfg inventory')),
    ),
    ...(v.limit ? { limit: v.limit } : {}),
    ...(v['playbook-dir'] !== undefined ? { playbookDir: playbookDirOf(v['playbook-dir'], cwd) } : {}),
    check: v.check ?? false,
    // -D, else [diff] always (-D cannot turn it off, as in Ansible)
    diff: v.diff ?? cfg.diffAlways ?? false,
    diffContext: cfg.diffContext === undefined ? 3 : nonNegativeInt(`context (${cfg.origins.diffContext})`, cfg.diffContext),
    ...(cfg.logPath ? { logPath: cfg.logPath } : {}),
    hostPatternMismatch: hostPatternMismatchOf(cfg),
    forks: v.forks !== undefined ? positiveInt('--forks', v.forks, DEFAULT_FORKS) : fromCfg('forks', 'forks', cfg.forks, DEFAULT_FORKS),
    ...waves,
    // --upgrade is `-e agent_package_state=latest`, after every other -e so it wins.
    extraVars: [...(v['extra-vars'] ?? []), ...(v.upgrade ? ['agent_package_state=latest'] : [])],
    uninstall: v.uninstall ?? false,
    purge: v.purge ?? false,
    // [defaults] verbosity is the count the -v flags add to, as in Ansible
    verbosity: (cfg.verbosity === undefined ? 0 : nonNegativeInt(`verbosity (${cfg.origins.verbosity})`, cfg.verbosity)) + (v.verbose?.length ?? 0),
    ...(v.json !== undefined ? { json: resolve(cwd, v.json) } : {}),
    ...(v.junit !== undefined ? { junit: resolve(cwd, v.junit) } : {}),
    detailedExitcode: v['detailed-exitcode'] ?? false,
    timeoutSeconds: connectTimeout('timeout'),
    zyppLockTimeoutSeconds: positiveInt('--zypper-lock-timeout', v['zypper-lock-timeout'], DEFAULT_ZYPP_LOCK_TIMEOUT_SECONDS, MAX_ZYPP_LOCK_TIMEOUT_SECONDS),
    remoteTimeoutSeconds: /^0+$/.test(v['remote-timeout'] ?? '')
      ? 0
      : positiveInt('--remote-timeout', v['remote-timeout'], DEFAULT_SCRIPT_TIMEOUT_SECONDS, MAX_TIMER_SECONDS),
    maxHostOutputMiB: positiveInt('--max-host-output', v['max-host-output'], DEFAULT_MAX_HOST_OUTPUT_MIB),
    ...(user ? { user } : {}),
    ...(cfg.remotePort !== undefined ? { port: portNumber(`remote_port (${cfg.origins.remotePort})`, cfg.remotePort) } : {}),
    ...(privateKey
      ? { privateKey, privateKeyOrigin: keyFlag !== undefined ? '--private-key' : (cfg.origins.privateKeyFile ?? 'ansible.cfg private_key_file') }
      : {}),
    hostKeyChecking: cfg.hostKeyChecking ?? true,
    become: {
      enabled: v.become ?? cfg.become ?? false,
      ...((v['become-user'] ?? cfg.becomeUser) ? { user: v['become-user'] ?? cfg.becomeUser } : {}),
      ...(becomeMethod ? { method: becomeMethod, methodOrigin: v['become-method'] ? '--become-method' : cfg.origins.becomeMethod! } : {}),
      ...(cfg.becomeExe ? { exe: cfg.becomeExe, exeOrigin: cfg.origins.becomeExe! } : {}),
      ...(cfg.becomeFlags !== undefined ? { flags: cfg.becomeFlags, flagsOrigin: cfg.origins.becomeFlags! } : {}),
      askPass: v['ask-become-pass'] ?? cfg.becomeAskPass ?? false,
      ...(becomePasswordFile ? { passwordFile: becomePasswordFile } : {}),
      allowSameUser: cfg.becomeAllowSameUser ?? false,
    },
    vault: {
      vaultIds: [...(cfg.vaultIdentityList ?? []), ...(v['vault-id'] ?? [])],
      passwordFiles: [...(v['vault-password-file'] ?? []), ...(v['vault-pass-file'] ?? []), ...(cfg.vaultPasswordFile ? [cfg.vaultPasswordFile] : [])],
      askVaultPass: v['ask-vault-pass'] ?? v['ask-vault-password'] ?? cfg.askVaultPass ?? false,
    },
    ssh: {
      ...((v.connection ?? cfg.transport) ? { transport: v.connection ?? cfg.transport, transportOrigin: v.connection ? '-c' : cfg.origins.transport! } : {}),
      askPass: v['ask-pass'] ?? cfg.askPass ?? false,
      ...(connectionPasswordFile ? { passwordFile: connectionPasswordFile } : {}),
      ...(cfg.sshExecutable ? { executable: cfg.sshExecutable } : {}),
      ...(cfg.sshArgs !== undefined ? { args: cfg.sshArgs } : {}),
      ...((v['ssh-common-args'] ?? cfg.sshCommonArgs) ? { commonArgs: v['ssh-common-args'] ?? cfg.sshCommonArgs } : {}),
      ...((v['ssh-extra-args'] ?? cfg.sshExtraArgs) ? { extraArgs: v['ssh-extra-args'] ?? cfg.sshExtraArgs } : {}),
      ...(cfg.controlPathDir ? { controlPathDir: cfg.controlPathDir } : {}),
      ...(cfg.sshRetries !== undefined ? { retries: nonNegativeInt(`retries (${cfg.origins.sshRetries})`, cfg.sshRetries) } : {}),
      ...(cfg.sshpassPrompt ? { sshpassPrompt: cfg.sshpassPrompt } : {}),
      ...(cfg.pkcs11Provider ? { pkcs11Provider: cfg.pkcs11Provider, pkcs11ProviderOrigin: cfg.origins.pkcs11Provider! } : {}),
      ...(cfg.controlPath ? { controlPath: cfg.controlPath, controlPathOrigin: cfg.origins.controlPath! } : {}),
      paramiko: {
        ...paramikoDefaults(cfg),
        timeoutMs: connectTimeout('paramikoTimeout') * 1000,
      },
    },
    ...(cfg.file ? { configFile: cfg.file } : {}),
    warnings: cfg.warnings,
    help: false,
    version: v.version ?? false,
    listHosts: v['list-hosts'] ?? false,
    syntaxCheck: v['syntax-check'] ?? false,
    ...(verify ? { verify } : {}),
  };
}

export const HELP = `Usage: trento-provision --inventory NAME|PATH [options]
       trento-provision --uninstall --inventory NAME|PATH [options]
       trento-provision completion bash
  (in the repository: npm run provision -- ... / npm run uninstall -- ...)

Sets up Trento monitoring on SUSE hosts over SSH (Trento RFC 0003, automatic deployment):
  SLES / SLES for SAP / Leap 15.x  node_exporter, agent in pull mode
  SLES / SLES for SAP / Leap 16.x  Grafana Alloy with trento.alloy, agent in push mode
  both                             trento-agent, /etc/trento/agent.yaml, unit drop-in
Other systems (SL Micro, SLES 12, SLED, non-SUSE) are refused and left untouched (--uninstall
still undoes a SLED host an earlier version set up).

Options (ansible-playbook's names and meanings):
  -i, --inventory NAME|PATH  inventory file or folder, or a folder name under inventories/
                             (repeatable; default: $ANSIBLE_INVENTORY, then ansible.cfg's)
  -l, --limit PATTERN        only hosts matching an Ansible pattern (groups, hosts, a:b, a:&b,
                             a:!b, wildcards, ~regex, @file)
      --playbook-dir DIR     also read DIR/group_vars/ and DIR/host_vars/, as ansible-playbook
                             reads them beside its playbook (above the inventory's)
  -C, --check                dry run: gather facts and print the plan; change nothing
  -D, --diff                 show file diffs (secrets masked), packages, units and services
  -f, --forks N              hosts handled at once (default ${DEFAULT_FORKS}; $ANSIBLE_FORKS, forks)
      --serial N|N%|N,M,...  roll out in waves (Ansible's play keyword serial): N hosts, N% of the
                             selected hosts (at least 1; rounded down as Ansible does, in
                             floating point: 29% of 100 is 28), or a list whose last
                             element repeats (1,10%,50%). Each wave is applied and verified
                             before the next starts; facts and plans of all hosts come first.
                             With --check: the waves, nothing changed
      --max-fail-percentage P  later waves, and hosts of the wave not yet started, do not
                             start when more than P% of a wave's hosts failed or were
                             unreachable (Ansible's max_fail_percentage; without --serial all
                             hosts are one wave); with or without it, a wave where every host
                             failed stops the rollout
  -e, --extra-vars VARS      key=value (no spaces), {JSON/YAML mapping} or @file; highest precedence (repeatable)
                             (a value given here is visible to every user of this machine in the
                             process list, and npm run writes it to its log in ~/.npm/_logs: give
                             secrets with @file or Ansible Vault instead)
      --uninstall            remove what the toolkit added (Alloy, node_exporter, supportutils,
                             agent.yaml (on SLES 15 kept by rpm as agent.yaml.rpmsave) and the
                             server CA anchor stay; Trento's supportutils plugin goes)
      --purge                with --uninstall: also remove Alloy/node_exporter, supportutils,
                             agent.yaml and the server CA anchor it wrote (the trust store
                             rebuilt; the packages only where the toolkit installed them),
                             then /etc/trento and /usr/share/trento where the toolkit made
                             them and nothing is left in them;
                             without: also remove the node_exporter the toolkit installed on a
                             host that moved from SLES 15 to 16 (else only stopped and disabled;
                             either only once Alloy and the agent there passed their checks)
      --upgrade              also upgrade trento-agent, node_exporter/Alloy, supportutils to the
                             newest in the repositories (= -e agent_package_state=latest; the
                             official role always does for its own packages)
  -v, --verbose              phases, facts, checks and step output; -vv each script a host
                             runs; -vvv the scripts' output; -vvvv the connection as resolved
                             and ssh run with -vvv. Secrets stay masked at every level
      --json FILE            write a machine-readable report of every host (mode 0600)
      --junit FILE           write a JUnit XML report for CI, one test case per host (mode 0600;
                             drift or a failure is a failure, unreachable an error, refused skipped)
      --detailed-exitcode    with --check (an error without it): exit 2 when any host would
                             change (drift), 0 when none would, like terraform plan; failed and
                             unreachable hosts keep their codes (see Exit codes)
  -T, --timeout SECONDS      SSH connection timeout (default ${DEFAULT_TIMEOUT_SECONDS}; $ANSIBLE_TIMEOUT, timeout)
      --zypper-lock-timeout S  how long zypper waits for another package manager (default ${DEFAULT_ZYPP_LOCK_TIMEOUT_SECONDS},
                             at most ${MAX_ZYPP_LOCK_TIMEOUT_SECONDS})
      --remote-timeout S     longest a script may run on a host; past it the host's script and
                             everything it started are stopped and the host fails (default ${DEFAULT_SCRIPT_TIMEOUT_SECONDS}, 0: none).
                             The facts (read-only; every host's plan waits for them) are given
                             up on sooner: after ${FACTS_BASE_WAIT_SECONDS} s plus twice --zypper-lock-timeout
      --max-host-output MIB  most a host may send for one script, stdout and stderr; past it the host fails (default ${DEFAULT_MAX_HOST_OUTPUT_MIB})
  -u, --user USER            SSH user when the inventory sets no ansible_user
                             ($ANSIBLE_REMOTE_USER, remote_user)
      --private-key FILE     SSH key when the inventory sets no ansible_ssh_private_key_file
                             ($ANSIBLE_PRIVATE_KEY_FILE, private_key_file)
  -b, --become               sudo to root on hosts whose inventory sets no ansible_become
                             ($ANSIBLE_BECOME, [privilege_escalation] become)
      --become-user USER     root only (default; another user is a settings error: the
                             scripts must run as root; ansible_become_user wins)
      --become-method sudo   only sudo is supported
  -K, --ask-become-pass      ask for the sudo password (hosts without ansible_become_password)
      --become-password-file FILE  the sudo password from FILE instead (an executable FILE
                             prints it; - reads stdin; $ANSIBLE_BECOME_PASSWORD_FILE, become_password_file)
      --vault-id [LABEL@]SOURCE  vault password from a file, a script printing it, or
                             "prompt" (repeatable)
      --vault-password-file FILE  vault password file, or an executable that prints it
                             (repeatable; $ANSIBLE_VAULT_PASSWORD_FILE, vault_password_file)
  -J, --ask-vault-pass       ask for the vault password
  -c, --connection NAME      ssh (default: the system OpenSSH client), paramiko (the in-process
                             client) or local; ansible_connection wins ($ANSIBLE_TRANSPORT)
  -k, --ask-pass             ask for the SSH password (hosts without ansible_password); sent
                             through sshpass on a pipe ($ANSIBLE_ASK_PASS, ask_pass)
      --connection-password-file FILE  the SSH password from FILE instead (as above;
                             $ANSIBLE_CONNECTION_PASSWORD_FILE, connection_password_file)
      --ssh-common-args ARGS  added to every ssh command line (ansible_ssh_common_args wins)
      --ssh-extra-args ARGS  added to every ssh command line (ansible_ssh_extra_args wins)
      --verify-prometheus URL  after the rollout, ask Trento's Prometheus (its base URL, e.g.
                             https://SERVER/prometheus) for up{agentID="<id>"} of each host, as
                             Trento Web does; wait up to two scrape intervals; a host whose
                             metrics do not arrive fails with the reason (in the recap and --json)
      --verify-auth METHOD   none, basic, bearer or mtls (default: agent_prometheus_auth); the
                             credentials are the agent's (agent_prometheus_auth_username/_password,
                             agent_prometheus_auth_bearer_token), never a flag
      --verify-ca FILE       CA (PEM) for an https URL (default: the system's roots)
      --verify-client-cert FILE, --verify-client-key FILE  mtls: this machine's client
                             certificate and key (PEM)
      --verify-wait S        wait this long for each host instead of two scrape intervals
  -h, --help                 this text
  -V, --version              version, config file, package location, Node version
      --list-hosts           the hosts the run would handle and what it does to each;
                             no connection
      --syntax-check         check the inventory and every host's settings; no connection;
                             exit 0 or 1

ansible-playbook's other spellings work too: --key-file, --vault-pass-file, --ask-vault-password,
--become-pass-file, --conn-pass-file.

Relative paths (-i, --private-key, --json, --junit, @files, vault password files,
./ansible.cfg) are taken from the folder the command was run in (under npm run: INIT_CWD); a
bare -i NAME that is no path there is a folder under the package's inventories/.
Colour: on a terminal; off with NO_COLOR, ANSIBLE_NOCOLOR or TERM=dumb; forced with
ANSIBLE_FORCE_COLOR or FORCE_COLOR. The live spinner only on a terminal without CI set.

Vault: group_vars/host_vars files encrypted with ansible-vault and inline !vault values are
decrypted; every decrypted value is a secret (masked in all output, diffs, --json and --junit).

ansible.cfg is read as Ansible reads it ($ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,
/etc/ansible/ansible.cfg; the first found): [defaults] inventory, forks, remote_user,
remote_port, private_key_file, host_key_checking, vault_password_file, vault_identity_list,
ask_vault_pass, timeout, transport, ask_pass, connection_password_file, become_password_file,
verbosity, log_path (the run's output appended
there, masked, 0600); [diff] always, context; [inventory] host_pattern_mismatch; [privilege_escalation] become, become_user,
become_method, become_ask_pass, become_exe, become_flags, become_allow_same_user;
[ssh_connection] ssh_executable, ssh_args, ssh_common_args, ssh_extra_args, control_path,
control_path_dir, retries, sshpass_prompt, pkcs11_provider, host_key_checking (ssh's own,
over [defaults]'s);
[paramiko_connection] host_key_checking, look_for_keys; its proxy_command, host_key_auto_add,
use_rsa_sha2_algorithms and banner_timeout only at their defaults (another value is refused
where paramiko connects).
Flags beat ANSIBLE_* variables, which beat ansible.cfg; inventory variables beat all three.

Hosts are reached with the system ssh, as Ansible does: ~/.ssh/config and /etc/ssh/ssh_config,
ssh-agent, certificates, @cert-authority, ProxyJump/ProxyCommand all apply. One master
connection per host (ControlPersist, its socket in a private folder of the run) carries its facts
and apply (--check, one round trip per host, makes none; a converged host's master closes once
its facts are in, and a converged host of a later --serial wave connects once more for its
checks); all are closed when the run ends.
ssh_args (default
"${DEFAULT_SSH_ARGS}"), ansible_ssh_common_args and
ansible_ssh_extra_args go on ssh's command line as with Ansible.
Host keys are checked as OpenSSH checks them (StrictHostKeyChecking, UserKnownHostsFile; no
prompt ever: BatchMode); ANSIBLE_HOST_KEY_CHECKING=False (host_key_checking = False) gives
-o StrictHostKeyChecking=no, as with Ansible. -vvvv passes -vvv to ssh and shows its account
of each login.
ansible_connection=paramiko uses the in-process client instead: it honours only -o ProxyJump/-J,
the "ssh -W %h:%p" ProxyCommand, UserKnownHostsFile and StrictHostKeyChecking, and refuses
(settings error) anything else. ansible_connection=local runs on this machine without SSH.

Exit codes (Ansible's): 0 all good, 2 a host failed, 4 a host was unreachable,
1 bad usage or settings (nothing was changed anywhere), 99 interrupted (npm run, which
a Ctrl-C interrupts too, exits 130 then; the --json report's exitCode says 99).
With --check --detailed-exitcode, 2 also when a host would change. The first that applies
wins: 1, 99, 4, 2 (failed), 2 (drift), 0; so drift never hides an unreachable host, and 0
means every host was reached and is as it should be. 3: the run came to 0, but a --json or
--junit report could not be written (an error names it; the other is still written).
Hosts of waves that never started are SKIPPED with the reason; a rollout stops only on a
failed or unreachable host, a Trento Prometheus that could not be asked (exit 2 or 4), or
Ctrl-C (99), never with 0.

Signals: Ctrl-C starts no new host and lets the hosts in flight finish their script; a second
Ctrl-C, SIGTERM or SIGHUP drops every connection at once (the hosts go on with their script on
their own), then writes the recap and reports (99; after SIGHUP the process then ends by that
signal). Ctrl-C or SIGTERM while the connections close leaves at once (130, 143), the ssh
clients killed and no report written.
`;
